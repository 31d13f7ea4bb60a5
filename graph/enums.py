"""GraphQL enums: uppercase names on the wire, the models' lowercase values in Python. Every enum
and every value is described (graphene reads a value's description from `Meta.description`
called with that value, or from a `description` property on a class enum)."""

from __future__ import annotations

from collections.abc import Mapping

import graphene

from tasks.models import Role as RoleChoices
from tasks.models import Task, WebhookDelivery


def choices_enum(
    name: str, choices: type, description: str, values: Mapping[str, str]
) -> type[graphene.Enum]:
    """A graphene enum of a model's `TextChoices`, `values` describing each (by wire name)."""
    members = [(value.upper(), value) for value in choices.values]  # type: ignore[attr-defined]
    if {member for member, _ in members} != set(values):
        raise ValueError(f"{name}: describe exactly the values {[m for m, _ in members]}.")

    def describe(member: object | None) -> str:
        return description if member is None else values[member.name]  # type: ignore[attr-defined]

    enum: type[graphene.Enum] = graphene.Enum(name, members, description=describe)
    return enum


TaskStatus = choices_enum(
    "TaskStatus",
    Task.Status,
    "Where a task stands.",
    {
        "TODO": "Not started.",
        "IN_PROGRESS": "Being worked on.",
        "DONE": "Finished; `completedAt` says when.",
    },
)
TaskPriority = choices_enum(
    "TaskPriority",
    Task.Priority,
    "Ordered by severity: LOW < ... < URGENT.",
    {
        "LOW": "Whenever there is time.",
        "MEDIUM": "The default.",
        "HIGH": "Before the MEDIUM ones.",
        "URGENT": "Before anything else.",
    },
)
Role = choices_enum(
    "Role",
    RoleChoices,
    "A member's role in a project.",
    {
        "OWNER": "Everything an ADMIN may, and also renames or deletes the project and makes "
        "admins. The project's creator.",
        "ADMIN": "Everything a MEMBER may, and also deletes any task, comment or attachment "
        "and manages members and webhooks.",
        "MEMBER": "Reads; creates and edits tasks and comments; uploads attachments.",
        "VIEWER": "Reads only.",
    },
)
WebhookDeliveryState = choices_enum(
    "WebhookDeliveryState",
    WebhookDelivery.State,
    "PENDING until an attempt succeeds (SUCCEEDED) or the retries run out (FAILED).",
    {
        "PENDING": "Not delivered yet; another attempt is due.",
        "SUCCEEDED": "The receiver answered with a 2xx status.",
        "FAILED": "Every retry failed; `redeliverWebhookDelivery` sends it again.",
    },
)

_ORDER_FIELDS = {
    "CREATED_AT": "When the task was created.",
    "UPDATED_AT": "When the task last changed.",
    "DUE_DATE": "The due date; tasks without one come last.",
    "PRIORITY": "By severity (LOW < MEDIUM < HIGH < URGENT), not alphabetically.",
    "TITLE": "The title, alphabetically.",
}


class TaskOrderField(graphene.Enum):
    """What to sort tasks by. Ties are broken by id, so the order is total."""

    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    DUE_DATE = "due_date"
    PRIORITY = "priority"
    TITLE = "title"

    @property
    def description(self) -> str:
        return _ORDER_FIELDS[self.name]


class OrderDirection(graphene.Enum):
    """Which way to sort."""

    ASC = "asc"
    DESC = "desc"

    @property
    def description(self) -> str:
        return "Smallest first." if self.name == "ASC" else "Largest (or newest) first."


def enum_value(value: object) -> object:
    """The Python value behind an enum argument (graphene passes enum members)."""
    return getattr(value, "value", value)
