"""Input types of the task list, shared by `Query.tasks` and `Project.tasks`."""

from __future__ import annotations

from typing import Any

import graphene

from tasks.selectors import TaskQuery

from .enums import OrderDirection, TaskOrderField, TaskPriority, TaskStatus, enum_value
from .ids import decode_id


class TaskFilter(graphene.InputObjectType):
    status = graphene.List(graphene.NonNull(TaskStatus))
    priority = graphene.List(graphene.NonNull(TaskPriority))
    assignee_id = graphene.ID()
    unassigned = graphene.Boolean()
    due_before = graphene.Date()
    due_after = graphene.Date()


class TaskOrder(graphene.InputObjectType):
    field = TaskOrderField(required=True)
    direction = OrderDirection(default_value=OrderDirection.DESC.value)  # type: ignore[attr-defined]


def task_list_args() -> dict[str, Any]:
    return {
        "filter": TaskFilter(),
        "search": graphene.String(),
        "order_by": TaskOrder(),
    }


def task_query(
    project_id: int | None,
    filter: dict[str, Any] | None,
    search: str | None,
    order_by: dict[str, Any] | None,
) -> TaskQuery:
    filter = filter or {}
    assignee = filter.get("assignee_id")
    order_by = order_by or {}
    return TaskQuery(
        project_id=project_id,
        statuses=tuple(str(enum_value(v)) for v in filter.get("status") or ()),
        priorities=tuple(str(enum_value(v)) for v in filter.get("priority") or ()),
        # An unknown assignee matches nothing rather than failing the whole list.
        assignee_id=_user_pk_or_impossible(assignee) if assignee is not None else None,
        unassigned=filter.get("unassigned"),
        due_before=filter.get("due_before"),
        due_after=filter.get("due_after"),
        search=search[:200] if search else None,
        order_field=str(enum_value(order_by.get("field") or "created_at")),
        descending=str(enum_value(order_by.get("direction") or "desc")) == "desc",
    )


def _user_pk_or_impossible(value: object) -> int:
    from tasks.errors import NotFound

    try:
        return decode_id(value, "User")
    except NotFound:
        return -1
