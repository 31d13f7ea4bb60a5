"""GraphQL enums: uppercase names on the wire, the models' lowercase values in Python."""

from __future__ import annotations

import graphene

from tasks.models import Role as RoleChoices
from tasks.models import Task


def _enum(name: str, choices: type, description: str) -> type[graphene.Enum]:
    enum: type[graphene.Enum] = graphene.Enum(
        name,
        [(value.upper(), value) for value in choices.values],  # type: ignore[attr-defined]
        description=description,
    )
    return enum


TaskStatus = _enum("TaskStatus", Task.Status, "Where a task stands.")
TaskPriority = _enum("TaskPriority", Task.Priority, "Ordered by severity: LOW < ... < URGENT.")
Role = _enum("Role", RoleChoices, "A member's role in a project.")


class TaskOrderField(graphene.Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    DUE_DATE = "due_date"
    PRIORITY = "priority"
    TITLE = "title"


class OrderDirection(graphene.Enum):
    ASC = "asc"
    DESC = "desc"


def enum_value(value: object) -> object:
    """The Python value behind an enum argument (graphene passes enum members)."""
    return getattr(value, "value", value)
