"""Subscriptions over graphql-transport-ws (served by realtime/graphql_ws.py). Each yields
`tasks.events.event_payload` dicts (the `Event` root) from the transport's event source: with
`after` (an event id) or `afterSeq` (an `Event.seq`), every stored event since that cursor
first, in `seq` order, then live ones, none twice.

`projectEventStream`/`taskEventStream` carry the same events wrapped in an `EventStreamMessage`
whose first message says whether the replay is complete (`recovered`, or why not), as
Centrifugo's subscribe reply does: a separate field, so `projectEvents(...): Event!` keeps its
shape for existing clients, and any graphql-transport-ws client (gql, Apollo) reads the answer
as an ordinary typed `next` message, including when nothing was missed.

The transport hands its event source in as the subscription's root value (`EventSource`), so
`graph/` never imports `realtime/`; without one (a subscription sent anywhere else) the
operation is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

import graphene

from tasks.continuity import ResumePoint

from .errors import bad_user_input
from .presence import Presence
from .types import Event

AFTER = "An event id (`Event.id`): replay every later event first, so nothing is missed."
AFTER_SEQ = (
    "The `seq` of the last event the client has: replay every later event of the project first "
    "(instead of `after`)."
)


class EventStreamReason(graphene.Enum):
    """Why a resumed stream could not replay everything the client missed."""

    CURSOR_TOO_OLD = "CURSOR_TOO_OLD"
    CURSOR_UNKNOWN = "CURSOR_UNKNOWN"
    TOO_MANY_MISSED = "TOO_MANY_MISSED"

    @property
    def description(self) -> str:
        return {
            "CURSOR_TOO_OLD": "Events after the cursor were pruned (`EVENT_RETENTION_DAYS`).",
            "CURSOR_UNKNOWN": "`after` is no event of this project, or `afterSeq` is beyond "
            "its newest event.",
            "TOO_MANY_MISSED": "More events were missed than the server replays "
            "(`EVENT_REPLAY_MAX`).",
        }[self.name]


class EventStreamMessage(graphene.ObjectType):
    """One message of `projectEventStream`/`taskEventStream`. The first says where the stream
    stands (`recovered`, `reason`, `fromSeq`; `event` null); every later one carries an `event`
    (and null `recovered`)."""

    recovered = graphene.Boolean(
        description="First message only. True: every event after the cursor (or, without one, "
        "after `fromSeq`) follows, in `seq` order. False: the replay could not be complete "
        "(`reason`); the stream is live from `fromSeq`, so fetch the current state first."
    )
    reason = graphene.Field(
        EventStreamReason, description="First message only, when `recovered` is false."
    )
    from_seq = graphene.Int(
        description="First message only: the stream delivers every event whose `seq` is greater."
    )
    event = graphene.Field(Event, description="An event; null in the first message.")


def _message(root: Any) -> dict[str, Any]:
    if isinstance(root, ResumePoint):
        return {
            "recovered": root.recovered,
            "reason": root.reason,
            "from_seq": root.from_seq,
            "event": None,
        }
    return {"recovered": None, "reason": None, "from_seq": None, "event": root}


class EventSource(Protocol):
    """`realtime.subscriptions.event_source`: the events of one project or task for a context."""

    def __call__(
        self,
        context: Any,
        *,
        project_id: object = None,
        task_id: object = None,
        after: str | None = None,
        after_seq: int | None = None,
        announce: bool = False,
    ) -> AsyncIterator[Any]: ...


class PresenceSource(Protocol):
    """`realtime.presence_source.presence_source`, the `presence` attribute of the root: makes
    the caller present while iterated; yields the project's presence list (items of
    `tasks.presence.viewers`) now and on every change."""

    def __call__(
        self, context: Any, *, project_id: object, task_id: object = None, editing: bool = False
    ) -> AsyncIterator[list[dict[str, Any]]]: ...


async def _no_source(context: Any, **arguments: Any) -> AsyncIterator[Any]:
    """The source of a subscription run without the WebSocket transport's: refuses on the first
    step, as the stream of a real source reports its errors."""
    raise bad_user_input("Subscriptions run over WebSocket (graphql-transport-ws).")
    yield  # an async generator, like the real sources


def _source(root: Any) -> EventSource:
    if not callable(root):
        return _no_source
    source: EventSource = root
    return source


class Subscription(graphene.ObjectType):
    """Live events over the graphql-transport-ws protocol, at the same path as queries."""

    project_events = graphene.Field(
        graphene.NonNull(Event),
        project_id=graphene.ID(required=True, description="The project's global ID."),
        after=graphene.String(description=AFTER),
        after_seq=graphene.Int(description=AFTER_SEQ),
        description="Every event of a project; `after` replays from that event id first. A "
        "replay that cannot be complete ends the subscription with an error coded with the "
        "reason (see `projectEventStream`).",
    )
    task_events = graphene.Field(
        graphene.NonNull(Event),
        task_id=graphene.ID(required=True, description="The task's global ID."),
        after=graphene.String(description=AFTER),
        after_seq=graphene.Int(description=AFTER_SEQ),
        description="Every event of a task; `after` replays from that event id first. A "
        "replay that cannot be complete ends the subscription with an error coded with the "
        "reason (see `taskEventStream`).",
    )
    project_event_stream = graphene.Field(
        graphene.NonNull(EventStreamMessage),
        project_id=graphene.ID(required=True, description="The project's global ID."),
        after=graphene.String(description=AFTER),
        after_seq=graphene.Int(description=AFTER_SEQ),
        description="`projectEvents` with continuity a client can check: a first message says "
        "whether the replay is complete (`recovered`), then one message per event.",
    )
    task_event_stream = graphene.Field(
        graphene.NonNull(EventStreamMessage),
        task_id=graphene.ID(required=True, description="The task's global ID."),
        after=graphene.String(description=AFTER),
        after_seq=graphene.Int(description=AFTER_SEQ),
        description="`taskEvents` with continuity a client can check (see `projectEventStream`).",
    )

    project_presence = graphene.Field(
        graphene.NonNull(graphene.List(graphene.NonNull(Presence))),
        project_id=graphene.ID(required=True, description="The project's global ID."),
        task_id=graphene.ID(description="The task you have open (a task of that project)."),
        editing=graphene.Boolean(description="You are editing that task (needs `taskId`)."),
        description="Who is viewing the project: the whole list now, then again on every "
        "change (at most one list per `PRESENCE_THROTTLE_SECONDS`, always the latest). You are "
        "present yourself (on `taskId`, `editing` it) while subscribed.",
    )

    @staticmethod
    async def subscribe_project_presence(
        root: Any,
        info: Any,
        project_id: str,
        task_id: str | None = None,
        editing: bool | None = None,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        source: PresenceSource | None = getattr(root, "presence", None)
        if source is None:
            raise bad_user_input("Subscriptions run over WebSocket (graphql-transport-ws).")
        async for viewers in source(
            info.context, project_id=project_id, task_id=task_id, editing=bool(editing)
        ):
            yield viewers

    @staticmethod
    def resolve_project_presence(
        root: list[dict[str, Any]], info: Any, **args: Any
    ) -> list[dict[str, Any]]:
        return root

    # Each returns the event source's own async iterator: no generator of ours in between, which
    # would cost every subscription a frame and a step per event.
    @staticmethod
    def subscribe_project_events(
        root: Any, info: Any, project_id: str, after: str | None = None, after_seq: Any = None
    ) -> AsyncIterator[dict[str, Any]]:
        return _source(root)(info.context, project_id=project_id, after=after, after_seq=after_seq)

    @staticmethod
    def subscribe_task_events(
        root: Any, info: Any, task_id: str, after: str | None = None, after_seq: Any = None
    ) -> AsyncIterator[dict[str, Any]]:
        return _source(root)(info.context, task_id=task_id, after=after, after_seq=after_seq)

    @staticmethod
    def subscribe_project_event_stream(
        root: Any, info: Any, project_id: str, after: str | None = None, after_seq: Any = None
    ) -> AsyncIterator[Any]:
        return _source(root)(
            info.context, project_id=project_id, after=after, after_seq=after_seq, announce=True
        )

    @staticmethod
    def subscribe_task_event_stream(
        root: Any, info: Any, task_id: str, after: str | None = None, after_seq: Any = None
    ) -> AsyncIterator[Any]:
        return _source(root)(
            info.context, task_id=task_id, after=after, after_seq=after_seq, announce=True
        )

    @staticmethod
    def resolve_project_event_stream(root: Any, info: Any, **args: Any) -> dict[str, Any]:
        return _message(root)

    @staticmethod
    def resolve_task_event_stream(root: Any, info: Any, **args: Any) -> dict[str, Any]:
        return _message(root)

    @staticmethod
    def resolve_project_events(root: dict[str, Any], info: Any, **args: Any) -> dict[str, Any]:
        return root

    @staticmethod
    def resolve_task_events(root: dict[str, Any], info: Any, **args: Any) -> dict[str, Any]:
        return root
