"""Which subscriptions share one encoded payload per event (realtime/shared_results.py)."""

from __future__ import annotations

import pytest
from graphql import get_operation_ast, parse

from realtime.shared_results import shared_key


def _key(query: str, variables: dict[str, object] | None = None) -> object:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    return shared_key(operation, query, variables)


def test_event_only_selections_share_payloads_per_query_and_variables() -> None:
    query = "subscription($p: ID!) { projectEvents(projectId: $p) { id type data createdAt } }"
    assert _key(query, {"p": "1"}) == _key(query, {"p": "1"})
    assert _key(query, {"p": "1"}) != _key(query, {"p": "2"})


@pytest.mark.parametrize(
    "selection",
    [
        "id project { name viewerRole }",  # depends on who is asking
        "id task { title }",
        "id actor { username }",
        "id ... on Event { type }",
        "id type @include(if: $show)",
    ],
)
def test_selections_that_may_depend_on_the_viewer_are_not_shared(selection: str) -> None:
    query = (
        "subscription($p: ID!, $show: Boolean = true)"
        f" {{ projectEvents(projectId: $p) {{ {selection} }} }}"
    )
    assert _key(query, {"p": "1"}) is None
