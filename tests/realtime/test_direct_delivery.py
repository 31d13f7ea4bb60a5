"""The direct way of a payload-only subscription (shared_results.DirectDelivery, routed by
subscriptions.Inbox) sends exactly the frames the general path sends, in the same order, and
never lets an event overtake one still queued for its socket, however the events, the general
path's progress and a slow client interleave."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from graphql import get_operation_ast, parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.operation import prepare
from realtime.auth import Credentials
from realtime.event_execution import EventOperation
from realtime.groups import RelayedEvent
from realtime.outbox import Outbox
from realtime.shared_results import DirectDelivery, next_payload, shared_key
from realtime.subscriptions import Inbox, SubscriptionContext
from tests.realtime.test_outbox import Transport

PREFIX = '{"id":"7","type":"next","payload":'
PROJECT = "UHJvamVjdDox"


class Subscription:
    """One subscription as graphql_ws runs it: an Inbox, the general path's task (next event,
    `next_payload`, send) and, when `direct`, a DirectDelivery to the same outbox."""

    def __init__(
        self,
        query: str,
        variables: dict[str, Any],
        *,
        direct: bool,
        direct_class: type[DirectDelivery] = DirectDelivery,
    ) -> None:
        document = parse(query)
        operation = get_operation_ast(document)
        assert operation is not None
        self.key = shared_key(document, operation, query, None, variables)
        assert self.key is not None, "payload-only selections only"
        credentials = Credentials(user=AnonymousUser(), scopes=frozenset({"read"}), token_id=None)
        self.context = SubscriptionContext(credentials)
        self.operation = EventOperation(prepare(query, variables), self.context)
        self.transport = Transport()
        self.outbox = Outbox(self.transport.send, limit=10_000, on_overflow=lambda: None)
        self.direct: DirectDelivery | None = None
        self.direct_class = direct_class if direct else None
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        # Made in the subscription's own task, as graphql_ws does.
        if self.direct_class is not None:
            self.direct = self.direct_class(
                shared=self.key,
                prefix=PREFIX,
                send_text=self.outbox.push_text,
                idle=self.outbox.idle,
                operation=self.operation,
            )
        self.inbox = Inbox(self.direct)
        while True:
            event = await self.inbox.next_event("Project")
            payload = await next_payload(self.operation, event, self.key)
            self.outbox.push_text(f"{PREFIX}{payload}}}")

    async def settle(self, count: int) -> list[str]:
        """Lets everything through and returns the frames once `count` have been written."""
        self.transport.writable.set()
        for _ in range(2000):
            if len(self.transport.sent) >= count and self.outbox.idle():
                break
            await asyncio.sleep(0.001)
        self.task.cancel()
        return self.transport.sent


def _event(number: int) -> dict[str, Any]:
    return {
        "id": str(number),
        "type": "task.updated" if number % 2 else "comment.created",
        "projectId": PROJECT,
        "taskId": None,
        "actor": None,
        "data": {"n": number, "title": f"t{number}", "nested": {"ok": number % 3 == 0}},
        "createdAt": f"2026-01-0{1 + number % 9}T10:00:00+00:00",
    }


FIELDS = ["id", "type", "data", "createdAt", "__typename"]


@st.composite
def selections(draw: Any) -> str:
    fields = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=5, unique=True))
    parts = []
    for index, name in enumerate(fields):
        alias = draw(st.booleans())
        parts.append(f"a{index}: {name}" if alias else name)
    body = " ".join(parts)
    if draw(st.booleans()):
        body = f"... on Event {{ {body} }}"
    return f"subscription($p: ID!) {{ projectEvents(projectId: $p) {{ {body} }} }}"


# What happens between two events: the general path runs a little, the client stalls or reads.
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["live", "replayed"]),
        st.sampled_from(["none", "yield", "stall", "read", "wait"]),
    ),
    min_size=1,
    max_size=12,
)


async def _scenario(query: str, steps: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    variables = {"p": PROJECT}
    fast = Subscription(query, variables, direct=True)
    general = Subscription(query, variables, direct=False)
    await asyncio.sleep(0)  # both tasks wait for their first event
    for number, (kind, then) in enumerate(steps, start=1):
        payload = _event(number)
        for subscription in (fast, general):
            # Separate relayed events: each path renders for itself, so the comparison holds.
            event = RelayedEvent(payload) if kind == "live" else dict(payload)
            subscription.inbox.deliver(event, "{}" if kind == "live" else None)
        if then == "yield":
            await asyncio.sleep(0)
        elif then == "stall":
            fast.transport.writable.clear()
        elif then == "read":
            fast.transport.writable.set()
            await asyncio.sleep(0)
        elif then == "wait":
            await asyncio.sleep(0.005)
    return await fast.settle(len(steps)), await general.settle(len(steps))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=selections(), steps=STEPS)
def test_direct_frames_equal_the_general_paths_in_order(query: str, steps: Any) -> None:
    direct_frames, general_frames = asyncio.run(_scenario(query, steps))
    assert len(general_frames) == len(steps)
    assert direct_frames == general_frames
    ids = [frame for frame in direct_frames if '"errors"' in frame]
    assert not ids


def test_live_events_go_direct_only_when_nothing_is_queued_before_them() -> None:
    """A replayed event still with the general path holds later live events on that path; once
    it is through, live events go direct; behind a stalled client they take the general path,
    in order."""
    query = "subscription($p: ID!) { projectEvents(projectId: $p) { id } }"

    routed: list[str] = []

    class Tracking(DirectDelivery):
        __slots__ = ()

        def deliver(self, event: dict[str, Any]) -> None:
            routed.append(event["id"])
            super().deliver(event)

    async def scenario() -> list[str]:
        subscription = Subscription(query, {"p": PROJECT}, direct=True, direct_class=Tracking)
        await asyncio.sleep(0)
        subscription.inbox.deliver(dict(_event(1)), None)  # replayed: general path
        subscription.inbox.deliver(RelayedEvent(_event(2)), "{}")  # must queue behind it
        assert routed == []
        for _ in range(200):  # the general path delivers both
            if len(subscription.transport.sent) == 2:
                break
            await asyncio.sleep(0.001)
        subscription.transport.writable.clear()  # the client stops reading
        subscription.inbox.deliver(RelayedEvent(_event(3)), "{}")  # idle outbox: direct
        assert not subscription.outbox.idle()  # 3 is stuck on the client
        subscription.inbox.deliver(RelayedEvent(_event(4)), "{}")  # busy outbox: general path
        subscription.inbox.deliver(RelayedEvent(_event(5)), "{}")  # behind 4: general path
        return await subscription.settle(5)

    frames = asyncio.run(scenario())
    assert routed == ["3"]
    assert [frame.split('"id":"')[2].split('"')[0] for frame in frames] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]


def test_a_failed_rendering_ends_the_subscription_through_the_general_path(monkeypatch) -> None:
    from realtime import shared_results

    def broken(*args: Any) -> str:
        raise RuntimeError("renderer down")

    monkeypatch.setattr(shared_results, "_render_payload", broken)
    query = "subscription($p: ID!) { projectEvents(projectId: $p) { id } }"

    async def scenario() -> BaseException | None:
        subscription = Subscription(query, {"p": PROJECT}, direct=True)
        await asyncio.sleep(0)
        subscription.inbox.deliver(RelayedEvent(_event(1)), "{}")
        subscription.inbox.deliver(RelayedEvent(_event(2)), "{}")
        try:
            await asyncio.wait_for(subscription.task, 5)
        except RuntimeError as error:
            assert subscription.direct is not None and subscription.direct.closed
            return error
        return None

    error = asyncio.run(scenario())
    assert str(error) == "renderer down"


@pytest.mark.parametrize(
    "selection", ["id task { title }", "id actor { username }", "project { name }"]
)
def test_selections_beyond_the_payload_get_no_direct_way(selection: str) -> None:
    query = f"subscription($p: ID!) {{ projectEvents(projectId: $p) {{ {selection} }} }}"
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    assert shared_key(document, operation, query, None, {"p": PROJECT}) is None


def test_a_live_event_is_written_to_every_direct_subscriber_as_it_is_relayed(
    monkeypatch,
) -> None:
    """One execution for every direct subscriber of an operation, on the loop; each frame is on
    its socket's outbox by the time the hub's callback for that subscriber returns, so the first
    socket is written before the last is even reached; no subscriber's frames change order."""
    from realtime import shared_results

    renders: list[str] = []
    real = shared_results._render_payload

    def render(*args: Any) -> str:
        renders.append(args[1]["id"])
        return real(*args)

    monkeypatch.setattr(shared_results, "_render_payload", render)
    count = 250
    query = "subscription($p: ID!) { projectEvents(projectId: $p) { id } }"
    expected = [PREFIX + '{"data":{"projectEvents":{"id":"' + str(n) + '"}}}}' for n in (1, 2)]

    async def scenario() -> list[list[str]]:
        subscriptions = [Subscription(query, {"p": PROJECT}, direct=True) for _ in range(count)]
        await asyncio.sleep(0)
        for number, event in enumerate((RelayedEvent(_event(1)), RelayedEvent(_event(2)))):
            for subscription in subscriptions:
                subscription.inbox.deliver(event, "{}")
                assert subscription.transport.sent[-1] == expected[number]
        return [await subscription.settle(2) for subscription in subscriptions]

    frames = asyncio.run(scenario())
    assert renders == ["1", "2"]  # one rendering per event for all subscribers
    assert all(sent == expected for sent in frames)


def test_nothing_goes_out_once_the_subscription_is_cancelled() -> None:
    """A `complete` cancels the subscription's task; an event relayed before that task has run
    again must not reach the client, directly or not."""
    query = "subscription($p: ID!) { projectEvents(projectId: $p) { id } }"

    async def scenario() -> list[str]:
        subscription = Subscription(query, {"p": PROJECT}, direct=True)
        await asyncio.sleep(0)
        subscription.inbox.deliver(RelayedEvent(_event(1)), "{}")
        for _ in range(200):
            if subscription.transport.sent:
                break
            await asyncio.sleep(0.001)
        subscription.task.cancel()
        subscription.inbox.deliver(RelayedEvent(_event(2)), "{}")  # before the task runs again
        await asyncio.sleep(0.05)
        return subscription.transport.sent

    sent = asyncio.run(scenario())
    assert len(sent) == 1 and '"id":"1"' in sent[0].split('"payload"')[1]
