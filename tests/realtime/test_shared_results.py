"""Which subscriptions share one rendering per live event (realtime/shared_results.py), and that
they do: one execution per relayed event, whatever the number of subscribers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import get_operation_ast, parse

from graph.operation import prepare
from realtime import shared_results
from realtime.groups import RelayedEvent
from realtime.shared_results import canonical, next_payload, shared_key

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
    """A live event is executed once, on the loop, for all its subscribers; a replayed one in a
    worker thread per subscriber."""
    executions: list[tuple[str, str]] = []

    async def render(operation: Any, event: Any, *args: Any) -> str:
        executions.append(("thread", event["id"]))
        await asyncio.sleep(0)  # a worker-thread hop
        return f'{{"n":{event["id"]}}}'

    def render_payload(operation: Any, event: Any) -> str:
        executions.append(("loop", event["id"]))
        return f'{{"n":{event["id"]}}}'

    monkeypatch.setattr(shared_results, "_render", render)
    monkeypatch.setattr(shared_results, "_render_payload", render_payload)
    key = _key(QUERY, {"p": "1"})

    async def scenario() -> list[str]:
        live = RelayedEvent({"id": "5"})
        replayed = {"id": "4"}
        subscribers = [
            next_payload(None, event, key)  # type: ignore[arg-type]
            for event in (live, live, live, replayed, replayed)
        ]
        return list(await asyncio.gather(*subscribers))

    payloads = asyncio.run(scenario())
    assert payloads == ['{"n":5}'] * 3 + ['{"n":4}'] * 2
    assert sorted(executions) == [("loop", "5"), ("thread", "4"), ("thread", "4")]


def test_a_failed_rendering_fails_every_subscriber_of_that_event(monkeypatch) -> None:
    """Kept with the event like a rendering: the operation is not executed again per subscriber,
    and each of them gets the error."""
    calls: list[str] = []

    def broken(operation: Any, event: Any) -> str:
        calls.append(event["id"])
        raise RuntimeError("renderer down")

    monkeypatch.setattr(shared_results, "_render_payload", broken)
    key = _key(QUERY, {"p": "1"})

    async def scenario() -> list[object]:
        live = RelayedEvent({"id": "5"})
        subscribers = [
            next_payload(None, live, key)  # type: ignore[arg-type]
            for _ in range(3)
        ]
        return list(await asyncio.gather(*subscribers, return_exceptions=True))

    results = asyncio.run(scenario())
    assert [str(result) for result in results] == ["renderer down"] * 3
    assert calls == ["5"]


def test_subscribers_of_one_operation_keep_one_key_and_one_prepared_operation(monkeypatch) -> None:
    """Each subscriber parses its own copy of the query and variables; the first one's prepared
    operation is kept and the others' let go (bounded: past the limit it starts again)."""
    monkeypatch.setattr(shared_results, "_canonical", {})

    def subscriber(project: str) -> tuple[Any, Any]:
        variables = {"p": project}
        return _key("".join(QUERY), variables), prepare(QUERY, variables)

    first = canonical(*subscriber("1"))
    later_key, later_prepared = subscriber("1")
    assert later_key is not first[0] and later_prepared is not first[1]
    assert canonical(later_key, later_prepared) == first
    assert canonical(later_key, later_prepared)[1] is first[1]
    other = canonical(*subscriber("2"))
    assert other[0] != first[0] and other[1].variables == {"p": "2"}

    monkeypatch.setattr(shared_results, "CANONICAL_LIMIT", 2)
    third = canonical(*subscriber("3"))
    assert len(shared_results._canonical) == 1 and third[1].variables == {"p": "3"}
