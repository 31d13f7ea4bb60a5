"""How objects look over REST. Output only: these serializers never write (services do).

v1 shows related users as ids; v2 nests them as objects and adds HATEOAS `links`. Each v2
serializer is a small subclass so the OpenAPI schema of each version is exact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema_field
from graphql_relay import to_global_id
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from tasks.models import Attachment, Comment, Event, Membership, Project, Role, Task


class NodeIdField(serializers.SerializerMethodField):
    """The GraphQL global ID of the object, so REST and GraphQL clients can share ids."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        super().__init__(help_text=f"GraphQL global ID (`{type_name}`).")

    def to_representation(self, value: Any) -> str:
        return to_global_id(self.type_name, value.pk)


extend_schema_field({"type": "string"})(NodeIdField)


class LinkSerializer(serializers.Serializer[Any]):
    rel = serializers.CharField()
    href = serializers.URLField()
    method = serializers.ChoiceField(choices=["GET", "POST", "PUT", "PATCH", "DELETE"])


def link(request: Any, rel: str, name: str, method: str = "GET", **kwargs: Any) -> dict[str, str]:
    href = reverse(f"api-{name}", kwargs={"version": "v2", **kwargs}, request=request)
    return {"rel": rel, "href": href, "method": method}


class LinksMixin(serializers.Serializer[Any]):
    links = serializers.SerializerMethodField(help_text="Related actions and collections.")

    @extend_schema_field(LinkSerializer(many=True))
    def get_links(self, obj: Any) -> list[dict[str, str]]:
        return self.build_links(self.context.get("request"), obj)

    def build_links(self, request: Any, obj: Any) -> list[dict[str, str]]:
        raise NotImplementedError


# --- Users ----------------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer[User]):
    node_id = NodeIdField("User")
    display_name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "node_id", "username", "display_name"]
        read_only_fields = fields

    def get_display_name(self, user: User) -> str:
        return user.get_full_name().strip() or user.get_username()


class MeV2Serializer(LinksMixin, UserSerializer):
    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "links"]

    def build_links(self, request: Any, obj: Any) -> list[dict[str, str]]:
        return [link(request, "self", "me"), link(request, "projects", "project-list")]


def user_id_field(source: str) -> serializers.IntegerField:
    return serializers.IntegerField(source=source, read_only=True, allow_null=True)


def nested_user(source: str | None = None) -> UserSerializer:
    kwargs: dict[str, Any] = {"read_only": True, "allow_null": True}
    if source:
        kwargs["source"] = source
    return UserSerializer(**kwargs)


# --- Projects -------------------------------------------------------------------------------------


class ProjectSerializer(serializers.ModelSerializer[Project]):
    node_id = NodeIdField("Project")
    created_by = user_id_field("created_by_id")
    role = serializers.SerializerMethodField(help_text="The requesting user's role.")

    class Meta:
        model = Project
        fields = [
            "id", "node_id", "name", "description", "created_by", "created_at", "updated_at",
            "role",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices, allow_null=True))
    def get_role(self, project: Project) -> str | None:
        roles: dict[int, str] = self.context.get("roles", {})
        return roles.get(project.pk)


class ProjectV2Serializer(LinksMixin, ProjectSerializer):
    created_by = nested_user()  # type: ignore[assignment]

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "links"]

    def build_links(self, request: Any, obj: Any) -> list[dict[str, str]]:
        pk = obj.pk
        return [
            link(request, "self", "project-detail", pk=pk),
            link(request, "update", "project-detail", "PATCH", pk=pk),
            link(request, "delete", "project-detail", "DELETE", pk=pk),
            link(request, "members", "project-members", pk=pk),
            link(request, "activity", "project-activity", pk=pk),
            {**link(request, "tasks", "task-list"), "href": _tasks_href(request, pk)},
        ]


def _tasks_href(request: Any, project_id: int) -> str:
    return reverse("api-task-list", kwargs={"version": "v2"}, request=request) + (
        f"?project={project_id}"
    )


class MembershipSerializer(serializers.ModelSerializer[Membership]):
    node_id = NodeIdField("Membership")
    project = serializers.IntegerField(source="project_id", read_only=True)
    user = user_id_field("user_id")
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "node_id", "project", "user", "username", "role", "joined_at"]
        read_only_fields = fields


class MembershipV2Serializer(LinksMixin, MembershipSerializer):
    user = nested_user()  # type: ignore[assignment]

    class Meta(MembershipSerializer.Meta):
        fields = [*MembershipSerializer.Meta.fields, "links"]

    def build_links(self, request: Any, obj: Any) -> list[dict[str, str]]:
        ids = {"pk": obj.project_id, "user_id": obj.user_id}
        return [
            link(request, "self", "project-member-detail", **ids),
            link(request, "delete", "project-member-detail", "DELETE", **ids),
            link(request, "project", "project-detail", pk=obj.project_id),
            link(request, "members", "project-members", pk=obj.project_id),
        ]


# --- Tasks ----------------------------------------------------------------------------------------


def _iso_datetime(field: serializers.DateTimeField) -> Callable[[Any], Any]:
    """`DateTimeField.to_representation` for an aware `datetime` and the ISO format, with the
    field's time zone looked up once per serializer instead of once per value."""
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()

    def convert(value: Any) -> Any:
        if type(value) is not datetime or zone is None or value.utcoffset() is None:
            return field.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


def _iso_date(field: serializers.DateField) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return value.isoformat() if type(value) is date else field.to_representation(value)

    return convert


def _converter(field: serializers.Field[Any, Any, Any, Any]) -> Callable[[Any], Any] | None:
    """A converter equal to `field.to_representation` for the field types a model list uses with
    their default settings; None for anything else (it takes DRF's own path)."""
    kind = type(field)
    if kind is serializers.IntegerField:
        return int
    if kind is serializers.CharField:
        return str
    if kind is serializers.ChoiceField:
        return field.to_representation
    if kind is serializers.DateField and _iso(field, api_settings.DATE_FORMAT):
        return _iso_date(cast(serializers.DateField, field))
    if kind is serializers.DateTimeField and _iso(field, api_settings.DATETIME_FORMAT):
        return _iso_datetime(cast(serializers.DateTimeField, field))
    return None


def _iso(field: Any, default: Any) -> bool:
    return str(getattr(field, "format", default)).lower() == ISO_8601


class PlannedRepresentation(serializers.Serializer[Any]):
    """`to_representation` with each field's way of reading worked out once per serializer (a
    list's child serves every row), instead of once per field and row: for a plain model
    attribute of a simple field type, `getattr` and a converter equal to the field's own
    `to_representation`; every other field (nested serializers, method fields, dotted sources)
    takes DRF's own path unchanged.

    DRF's generic loop cost 37% of a REST task-list cache miss (page_size=50) measured in-process
    with cProfile (`_readable_fields`, `get_attribute`'s callable checks and
    `DateTimeField.enforce_timezone` per value); bench/PROFILES.md has the before/after CPU time.
    tests/api/test_planned_representation.py checks that the output equals DRF's."""

    _plan: list[tuple[str, str | None, Callable[[Any], Any] | None, Any]] | None = None

    def _planned(self) -> list[tuple[str, str | None, Callable[[Any], Any] | None, Any]]:
        plan = []
        for field in self._readable_fields:
            attrs = field.source_attrs
            convert = _converter(field) if len(attrs) == 1 else None
            plan.append((str(field.field_name), attrs[0] if convert else None, convert, field))
        return plan

    def to_representation(self, instance: Any) -> dict[str, Any]:
        plan = self._plan
        if plan is None:
            plan = self._plan = self._planned()
        ret: dict[str, Any] = {}
        for name, attr, convert, field in plan:
            if convert is None or attr is None:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
                check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
                ret[name] = None if check is None else field.to_representation(attribute)
            else:
                value = getattr(instance, attr)
                ret[name] = None if value is None else convert(value)
        return ret


class TaskSerializer(PlannedRepresentation, serializers.ModelSerializer[Task]):
    node_id = NodeIdField("Task")
    project = serializers.IntegerField(source="project_id", read_only=True)
    assignee = user_id_field("assignee_id")
    created_by = user_id_field("created_by_id")

    class Meta:
        model = Task
        fields = [
            "id", "node_id", "project", "title", "description", "status", "priority",
            "due_date", "assignee", "created_by", "created_at", "updated_at", "completed_at",
            "version",
        ]  # fmt: skip
        read_only_fields = fields


class TaskV2Serializer(LinksMixin, TaskSerializer):
    assignee = nested_user()  # type: ignore[assignment]
    created_by = nested_user()  # type: ignore[assignment]

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "links"]

    def build_links(self, request: Any, obj: Any) -> list[dict[str, str]]:
        pk = obj.pk
        return [
            link(request, "self", "task-detail", pk=pk),
            link(request, "update", "task-detail", "PATCH", pk=pk),
            link(request, "replace", "task-detail", "PUT", pk=pk),
            link(request, "delete", "task-detail", "DELETE", pk=pk),
            link(request, "comments", "task-comments", pk=pk),
            link(request, "attachments", "task-attachments", pk=pk),
            link(request, "project", "project-detail", pk=obj.project_id),
        ]


# --- Comments -------------------------------------------------------------------------------------


class CommentSerializer(serializers.ModelSerializer[Comment]):
    node_id = NodeIdField("Comment")
    task = serializers.IntegerField(source="task_id", read_only=True)
    author = user_id_field("author_id")

    class Meta:
        model = Comment
        fields = ["id", "node_id", "task", "author", "body", "created_at", "edited_at"]
        read_only_fields = fields


class CommentV2Serializer(LinksMixin, CommentSerializer):
    author = nested_user()  # type: ignore[assignment]

    class Meta(CommentSerializer.Meta):
        fields = [*CommentSerializer.Meta.fields, "links"]

    def build_links(self, request: Any, obj: Any) -> list[dict[str, str]]:
        pk = obj.pk
        return [
            link(request, "self", "comment-detail", pk=pk),
            link(request, "update", "comment-detail", "PATCH", pk=pk),
            link(request, "delete", "comment-detail", "DELETE", pk=pk),
            link(request, "task", "task-detail", pk=obj.task_id),
        ]


# --- Attachments ----------------------------------------------------------------------------------


class AttachmentSerializer(serializers.ModelSerializer[Attachment]):
    node_id = NodeIdField("Attachment")
    task = serializers.IntegerField(source="task_id", read_only=True)
    uploaded_by = user_id_field("uploaded_by_id")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id", "node_id", "task", "name", "size", "content_type", "sha256", "width",
            "height", "state", "uploaded_by", "uploaded_at", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_download_url(self, attachment: Attachment) -> str:
        request = self.context.get("request")
        version = getattr(request, "version", None) or "v1"
        return reverse(
            "api-attachment-download",
            kwargs={"version": version, "pk": attachment.pk},
            request=request,
        )


class AttachmentV2Serializer(LinksMixin, AttachmentSerializer):
    uploaded_by = nested_user()  # type: ignore[assignment]

    class Meta(AttachmentSerializer.Meta):
        fields = [*AttachmentSerializer.Meta.fields, "links"]

    def build_links(self, request: Any, obj: Any) -> list[dict[str, str]]:
        pk = obj.pk
        return [
            link(request, "self", "attachment-detail", pk=pk),
            link(request, "delete", "attachment-detail", "DELETE", pk=pk),
            link(request, "download", "attachment-download", pk=pk),
            link(request, "task", "task-detail", pk=obj.task_id),
        ]


# --- Events ---------------------------------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer[Event]):
    node_id = NodeIdField("Event")
    project = serializers.IntegerField(source="project_id", read_only=True)
    task = serializers.IntegerField(source="task_id", read_only=True, allow_null=True)
    actor = user_id_field("actor_id")
    data = serializers.JSONField(  # type: ignore[assignment]
        read_only=True, help_text="The changed object, as GraphQL shows it."
    )

    class Meta:
        model = Event
        fields = ["id", "node_id", "type", "project", "task", "actor", "data", "created_at"]
        read_only_fields = fields


class EventV2Serializer(LinksMixin, EventSerializer):
    actor = nested_user()  # type: ignore[assignment]

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "links"]

    def build_links(self, request: Any, obj: Any) -> list[dict[str, str]]:
        links = [link(request, "project", "project-detail", pk=obj.project_id)]
        if obj.task_id and obj.type != Event.Type.TASK_DELETED:
            links.append(link(request, "task", "task-detail", pk=obj.task_id))
        return links


V2: dict[type[Any], type[Any]] = {
    UserSerializer: MeV2Serializer,
    ProjectSerializer: ProjectV2Serializer,
    MembershipSerializer: MembershipV2Serializer,
    TaskSerializer: TaskV2Serializer,
    CommentSerializer: CommentV2Serializer,
    AttachmentSerializer: AttachmentV2Serializer,
    EventSerializer: EventV2Serializer,
}


def for_version(serializer_class: type[Any], version: str | None) -> type[Any]:
    return V2.get(serializer_class, serializer_class) if version == "v2" else serializer_class
