"""Subscriptions over graphql-transport-ws (served by realtime/graphql_ws.py). Each yields
`tasks.events.event_payload` dicts (the `Event` root) from `realtime.subscriptions.event_source`:
with `after`, every stored event since that cursor first, then live ones, none twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import graphene

from .types import Event


class Subscription(graphene.ObjectType):  # type: ignore[misc]
    project_events = graphene.Field(
        graphene.NonNull(Event),
        project_id=graphene.ID(required=True),
        after=graphene.String(),
        description="Every event of a project; `after` replays from that event id first.",
    )
    task_events = graphene.Field(
        graphene.NonNull(Event),
        task_id=graphene.ID(required=True),
        after=graphene.String(),
        description="Every event of a task; `after` replays from that event id first.",
    )

    @staticmethod
    async def subscribe_project_events(
        root: Any, info: Any, project_id: str, after: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        from realtime.subscriptions import event_source

        async for event in event_source(info.context, project_id=project_id, after=after):
            yield event

    @staticmethod
    async def subscribe_task_events(
        root: Any, info: Any, task_id: str, after: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        from realtime.subscriptions import event_source

        async for event in event_source(info.context, task_id=task_id, after=after):
            yield event

    @staticmethod
    def resolve_project_events(root: dict[str, Any], info: Any, **args: Any) -> dict[str, Any]:
        return root

    @staticmethod
    def resolve_task_events(root: dict[str, Any], info: Any, **args: Any) -> dict[str, Any]:
        return root
