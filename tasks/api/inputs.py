"""Request bodies. They check shape only (types, enum values); the services own every business rule.
Only the fields listed here can be sent: anything else (ids, ownership, `version`, timestamps, a
task's project on update) is rejected with `unknown_field`, never silently assigned."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tasks.models import Role, Task

MAX_ID = 2**31 - 1


class StrictIntegerField(serializers.IntegerField):
    """No booleans: `true` is not the id 1."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """Only JSON strings: a number or a boolean is not silently turned into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    return StrictIntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def _text_field(*, max_length: int, min_length: int = 0, **kwargs: Any) -> Any:
    """Lengths and blank titles are the service's to judge (with the same codes as GraphQL); the
    limits are only documented in the schema here."""
    field = StrictCharField(allow_blank=True, trim_whitespace=False, **kwargs)
    hint: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if min_length:
        hint["minLength"] = min_length
    return extend_schema_field(hint)(field)  # type: ignore[type-var]


class InputSerializer(serializers.Serializer[Any]):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        str(name)[:100]: [
                            serializers.ErrorDetail("This field cannot be set.", "unknown_field")
                        ]
                        for name in unknown[:20]
                    }
                )
        return super().to_internal_value(data)


class ProjectCreateInput(InputSerializer):
    name = _text_field(min_length=1, max_length=120)
    description = _text_field(max_length=2000, required=False)


class ProjectUpdateInput(InputSerializer):
    name = _text_field(min_length=1, max_length=120, required=False)
    description = _text_field(max_length=2000, required=False)


class MemberAddInput(InputSerializer):
    username = StrictCharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class TaskFieldsInput(InputSerializer):
    title = _text_field(min_length=1, max_length=200)
    description = _text_field(max_length=10_000, required=False)
    status = serializers.ChoiceField(choices=Task.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Task.Priority.choices, required=False)
    due_date = serializers.DateField(required=False, allow_null=True)
    assignee = _id_field(required=False, allow_null=True)


class TaskCreateInput(TaskFieldsInput):
    project = _id_field()


# A task is written with its `project` (API.md), so a PUT/PATCH may echo it; tasks never move.
SAME_PROJECT_HELP = "The task's own project, if given: a task cannot move to another project."


class TaskReplaceInput(TaskFieldsInput):
    """PUT: the whole editable state; what is left out goes back to its default."""

    project = _id_field(required=False, help_text=SAME_PROJECT_HELP)


class TaskUpdateInput(TaskFieldsInput):
    """PATCH: any subset of the editable fields."""

    title = _text_field(min_length=1, max_length=200, required=False)
    project = _id_field(required=False, help_text=SAME_PROJECT_HELP)


class CommentInput(InputSerializer):
    body = _text_field(min_length=1, max_length=5000)


@extend_schema_field({"type": "string", "format": "binary"})
class UploadField(serializers.FileField):
    """A file part (annotated on the class: field instances are copied without annotations)."""


class AttachmentUploadInput(InputSerializer):
    """A multipart body. Documents the request only: the view hands `file` straight to the
    service, which owns every check (size, sniffed type, name, quota)."""

    file = UploadField(help_text="The file. Its type is judged by its bytes.")


TASK_DEFAULTS: dict[str, Any] = {
    "description": "",
    "status": Task.Status.TODO,
    "priority": Task.Priority.MEDIUM,
    "due_date": None,
    "assignee": None,
}


def task_changes(data: dict[str, Any]) -> dict[str, Any]:
    """Validated task fields as `services.task_update` names them."""
    changes = dict(data)
    if "assignee" in changes:
        changes["assignee_id"] = changes.pop("assignee")
    return changes
