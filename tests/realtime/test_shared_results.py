"""Which subscriptions share one rendering per live event (realtime/shared_results.py), and that
they do: one execution per relayed event, whatever the number of subscribers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import get_operation_ast, parse

from realtime import shared_results
from realtime.groups import RelayedEvent
from realtime.shared_results import next_payload, shared_key

QUERY = "subscription($p: ID!) { projectEvents(projectId: $p) { id type data createdAt } }"


def _key(query: str, variables: dict[str, object] | None = None) -> object:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    return shared_key(document, operation, query, None, variables)


def test_payload_only_selections_share_per_query_and_variables() -> None:
    assert _key(QUERY, {"p": "1"}) == _key(QUERY, {"p": "1"})
    assert _key(QUERY, {"p": "1"}) != _key(QUERY, {"p": "2"})


@pytest.mark.parametrize(
    "selection",
    ["id project { name viewerRole }", "id task { title }", "id actor { username }"],
)
def test_selections_that_may_depend_on_the_viewer_are_not_shared(selection: str) -> None:
    query = f"subscription($p: ID!) {{ projectEvents(projectId: $p) {{ {selection} }} }}"
    assert _key(query, {"p": "1"}) is None


def test_one_execution_per_relayed_event_for_all_its_subscribers(monkeypatch) -> None:
    executions: list[str] = []

    async def render(schema: Any, document: Any, event: Any, *args: Any) -> str:
        executions.append(event["id"])
        await asyncio.sleep(0)  # a worker-thread hop
        return f'{{"n":{event["id"]}}}'

    monkeypatch.setattr(shared_results, "_render", render)
    key = _key(QUERY, {"p": "1"})

    async def scenario() -> list[str]:
        live = RelayedEvent({"id": "5"})
        replayed = {"id": "4"}
        subscribers = [
            next_payload(None, None, event, None, None, None, key)  # type: ignore[arg-type]
            for event in (live, live, live, replayed, replayed)
        ]
        return list(await asyncio.gather(*subscribers))

    payloads = asyncio.run(scenario())
    assert payloads == ['{"n":5}'] * 3 + ['{"n":4}'] * 2
    assert sorted(executions) == ["4", "4", "5"]  # a replayed event is rendered per subscriber
