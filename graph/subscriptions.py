"""Subscriptions over graphql-transport-ws (served by realtime/graphql_ws.py). Each yields
`tasks.events.event_payload` dicts (the `Event` root) from the transport's event source: with
`after`, every stored event since that cursor first, then live ones, none twice.

The transport hands its event source in as the subscription's root value (`EventSource`), so
`graph/` never imports `realtime/`; without one (a subscription sent anywhere else) the
operation is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

import graphene

from .errors import bad_user_input
from .presence import Presence
from .types import Event

AFTER = "An event id (`Event.id`): replay every later event first, so nothing is missed."


class EventSource(Protocol):
    """`realtime.subscriptions.event_source`: the events of one project or task for a context."""

    def __call__(
        self,
        context: Any,
        *,
        project_id: object = None,
        task_id: object = None,
        after: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]: ...


class PresenceSource(Protocol):
    """`realtime.presence_source.presence_source`, the `presence` attribute of the root: makes
    the caller present while iterated; yields the project's presence list (items of
    `tasks.presence.viewers`) now and on every change."""

    def __call__(
        self, context: Any, *, project_id: object, task_id: object = None, editing: bool = False
    ) -> AsyncIterator[list[dict[str, Any]]]: ...


def _source(root: Any) -> EventSource:
    if not callable(root):
        raise bad_user_input("Subscriptions run over WebSocket (graphql-transport-ws).")
    source: EventSource = root
    return source


class Subscription(graphene.ObjectType):
    """Live events over the graphql-transport-ws protocol, at the same path as queries."""

    project_events = graphene.Field(
        graphene.NonNull(Event),
        project_id=graphene.ID(required=True, description="The project's global ID."),
        after=graphene.String(description=AFTER),
        description="Every event of a project; `after` replays from that event id first.",
    )
    task_events = graphene.Field(
        graphene.NonNull(Event),
        task_id=graphene.ID(required=True, description="The task's global ID."),
        after=graphene.String(description=AFTER),
        description="Every event of a task; `after` replays from that event id first.",
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

    @staticmethod
    async def subscribe_project_events(
        root: Any, info: Any, project_id: str, after: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        async for event in _source(root)(info.context, project_id=project_id, after=after):
            yield event

    @staticmethod
    async def subscribe_task_events(
        root: Any, info: Any, task_id: str, after: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        async for event in _source(root)(info.context, task_id=task_id, after=after):
            yield event

    @staticmethod
    def resolve_project_events(root: dict[str, Any], info: Any, **args: Any) -> dict[str, Any]:
        return root

    @staticmethod
    def resolve_task_events(root: dict[str, Any], info: Any, **args: Any) -> dict[str, Any]:
        return root
