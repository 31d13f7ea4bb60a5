"""`Presence` and `Project.presence`: who is viewing a project now, which task, who is editing.

The root of a `Presence` is an item of `tasks.presence.viewers` (a JSON-safe dict), from the
store for `Project.presence` and from the transport's presence source for the
`projectPresence` subscription alike. `Project` is only resolved for its members, so presence
is too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene

from tasks.presence import project_viewers

from .context import loaders
from .ids import decode_id


class Presence(graphene.ObjectType):
    """Someone viewing a project, on its board (`task` null) or on one of its tasks."""

    user = graphene.Field(graphene.NonNull("graph.types.User"), description="Who it is.")
    task = graphene.Field(
        "graph.types.Task", description="The task they have open; null on the board."
    )
    task_id = graphene.ID(description="The global ID of that task (also once it is deleted).")
    editing = graphene.Boolean(required=True, description="They are editing that task.")
    since = graphene.DateTime(required=True, description="When they arrived there.")

    @staticmethod
    def resolve_user(root: dict[str, Any], info: Any) -> Any:
        return loaders(info).users.load(root["user"]["pk"])

    @staticmethod
    def resolve_task(root: dict[str, Any], info: Any) -> Any:
        if not root.get("taskId"):
            return None
        return loaders(info).tasks.load(decode_id(root["taskId"], "Task"))

    @staticmethod
    def resolve_task_id(root: dict[str, Any], info: Any) -> str | None:
        task_id: str | None = root.get("taskId")
        return task_id

    @staticmethod
    def resolve_editing(root: dict[str, Any], info: Any) -> bool:
        return bool(root["editing"])

    @staticmethod
    def resolve_since(root: dict[str, Any], info: Any) -> datetime:
        return datetime.fromisoformat(root["since"])


def presence_field() -> graphene.NonNull:
    return graphene.NonNull(
        graphene.List(graphene.NonNull(Presence)),
        description="Who is viewing the project now (one item per person and task, oldest "
        "first), whoever's server process they are connected to.",
    )


def resolve_project_presence(project_id: int) -> list[dict[str, Any]]:
    return project_viewers(project_id)
