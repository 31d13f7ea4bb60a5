"""The keyset orderings of every paginated list, shared by REST and GraphQL (`tasks.keyset`)."""

from __future__ import annotations

from django.db.models import F

from .keyset import Kind, Ordering
from .selectors import order_key

TASK_SORT_KINDS: dict[str, Kind] = {
    "created_at": "datetime",
    "updated_at": "datetime",
    "due_date": "date",
    "priority": "int",
    "title": "str",
}


def task_ordering(scope: str, field: str, descending: bool) -> Ordering:
    """A task list ordered as `selectors.order_key` orders it (priority by severity, nulls last)."""
    expression = order_key(field, descending)[0].expression
    name = f"-{field}" if descending else field
    plain = None if field == "priority" else field
    return Ordering(scope, name, descending, expression, TASK_SORT_KINDS[field], plain)


def newest_first(scope: str) -> Ordering:
    """By id, newest first: the activity log over REST, webhook deliveries."""
    return Ordering(scope, "-id", descending=True)


def oldest_first(scope: str) -> Ordering:
    """By id, oldest first: the activity log over GraphQL (its cursor is the event id)."""
    return Ordering(scope, "id", descending=False)


def projects(scope: str) -> Ordering:
    """Projects, newest first (the model's default ordering)."""
    return Ordering(scope, "-created_at", True, F("created_at"), "datetime", "created_at")


def comments(scope: str) -> Ordering:
    """A task's comments, oldest first (the model's default ordering)."""
    return Ordering(scope, "created_at", False, F("created_at"), "datetime", "created_at")
