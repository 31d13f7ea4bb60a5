"""The object types of API.md. Roots are model instances, except `Event`, whose root is always
the JSON-safe dict of `tasks.events.event_payload` (from the activity query and from
subscriptions alike). Every relation goes through the per-request loaders (`graph.dataloaders`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import graphene
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q
from graphene import relay

from tasks import models, selectors
from tasks.errors import NotFound

from .context import loaders, viewer
from .dataloaders import USER_FIELDS, _instance
from .enums import Role, TaskPriority, TaskStatus
from .ids import decode_id
from .inputs import task_list_args, task_query
from .pagination import CountableConnection, connection_args, paginate
from .scalars import JSON
from .webhook_types import Webhook, project_webhooks


def _related(obj: Any, name: str, load: Callable[[int], Any]) -> Any:
    """A foreign key's object: the one already joined by select_related, else batch-loaded."""
    key = getattr(obj, f"{name}_id")
    if key is None:
        return None
    cached = obj._state.fields_cache
    if name in cached:
        return cached[name]
    return load(key)


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _payload_user(actor: dict[str, Any]) -> Any:
    """A `User` from an event payload's actor (`tasks.events.user_data`), with no query: its
    `displayName` stands in for the full name, which `resolve_display_name` gives back as is."""
    values = (actor["pk"], actor["username"], actor["displayName"], "")
    return _instance(get_user_model(), USER_FIELDS, values, DEFAULT_DB_ALIAS)


class User(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)
        description = "A person. `displayName` is the full name, or the username without one."

    username = graphene.String(required=True)
    display_name = graphene.String(required=True)

    @classmethod
    def is_type_of(cls, root: Any, info: Any) -> bool:
        return isinstance(root, get_user_model())

    @staticmethod
    def resolve_display_name(root: Any, info: Any) -> str:
        full_name = f"{root.first_name} {root.last_name}".strip()
        return full_name or root.username  # type: ignore[no-any-return]

    @classmethod
    def get_node(cls, info: Any, id: str) -> Any:
        user = viewer(info)
        if not user.is_authenticated:
            raise NotFound("user")
        shared = selectors.member_project_ids(user)
        found = (
            get_user_model()
            .objects.filter(Q(pk=user.pk) | Q(memberships__project_id__in=shared))
            .filter(pk=decode_id(id, "User"))
            .only("id", "username", "first_name", "last_name")
            .first()
        )
        if found is None:
            raise NotFound("user")
        return found


class Membership(graphene.ObjectType):
    user = graphene.Field(User, required=True)
    role = graphene.Field(Role, required=True)
    joined_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_user(root: models.Membership, info: Any) -> Any:
        return _related(root, "user", loaders(info).users.load)


class Attachment(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)

    task = graphene.Field(lambda: Task)
    name = graphene.String(required=True)
    size = graphene.Int(required=True)
    content_type = graphene.String(required=True)
    sha256 = graphene.String(required=True)
    url = graphene.String(required=True, description="Where to download the file (REST).")
    width = graphene.Int()
    height = graphene.Int()
    state = graphene.String(required=True, description="PENDING, PROCESSED or FAILED.")
    uploaded_by = graphene.Field(User)
    uploaded_at = graphene.DateTime(required=True)

    @classmethod
    def is_type_of(cls, root: Any, info: Any) -> bool:
        return isinstance(root, models.Attachment)

    @staticmethod
    def resolve_task(root: models.Attachment, info: Any) -> Any:
        return _related(root, "task", loaders(info).tasks.load)

    @staticmethod
    def resolve_url(root: models.Attachment, info: Any) -> str:
        return f"/api/v1/attachments/{root.pk}/download/"

    @staticmethod
    def resolve_state(root: models.Attachment, info: Any) -> str:
        return root.state.upper()

    @staticmethod
    def resolve_uploaded_by(root: models.Attachment, info: Any) -> Any:
        return _related(root, "uploaded_by", loaders(info).users.load)

    @classmethod
    def get_node(cls, info: Any, id: str) -> Any:
        return selectors.attachment_get(viewer(info), decode_id(id, "Attachment"))


class Comment(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)

    task = graphene.Field(lambda: Task)
    author = graphene.Field(User)
    body = graphene.String(required=True)
    created_at = graphene.DateTime(required=True)
    edited_at = graphene.DateTime()

    @classmethod
    def is_type_of(cls, root: Any, info: Any) -> bool:
        return isinstance(root, models.Comment)

    @staticmethod
    def resolve_task(root: models.Comment, info: Any) -> Any:
        return _related(root, "task", loaders(info).tasks.load)

    @staticmethod
    def resolve_author(root: models.Comment, info: Any) -> Any:
        return _related(root, "author", loaders(info).users.load)

    @classmethod
    def get_node(cls, info: Any, id: str) -> Any:
        return selectors.comment_get(viewer(info), decode_id(id, "Comment"))


class CommentConnection(CountableConnection):
    class Meta:
        node = Comment


class Task(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)

    project = graphene.Field(lambda: Project, required=True)
    title = graphene.String(required=True)
    description = graphene.String(required=True)
    status = graphene.Field(TaskStatus, required=True)
    priority = graphene.Field(TaskPriority, required=True)
    due_date = graphene.Date()
    assignee = graphene.Field(User)
    created_by = graphene.Field(User)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)
    completed_at = graphene.DateTime()
    version = graphene.Int(required=True, description="+1 on every change; see expectedVersion.")
    comments = graphene.Field(
        graphene.NonNull(CommentConnection), **connection_args(backwards=False)
    )
    attachments = graphene.NonNull(graphene.List(graphene.NonNull(Attachment)))
    comment_count = graphene.Int(required=True)

    @classmethod
    def is_type_of(cls, root: Any, info: Any) -> bool:
        return isinstance(root, models.Task)

    @staticmethod
    def resolve_project(root: models.Task, info: Any) -> Any:
        return _related(root, "project", loaders(info).projects.load)

    @staticmethod
    def resolve_assignee(root: models.Task, info: Any) -> Any:
        return _related(root, "assignee", loaders(info).users.load)

    @staticmethod
    def resolve_created_by(root: models.Task, info: Any) -> Any:
        return _related(root, "created_by", loaders(info).users.load)

    @staticmethod
    def resolve_comment_count(root: models.Task, info: Any) -> int:
        return loaders(info).comment_counts.load(root.pk)

    @staticmethod
    def resolve_attachments(root: models.Task, info: Any) -> list[models.Attachment]:
        return loaders(info).attachments.load(root.pk)

    @staticmethod
    def resolve_comments(
        root: models.Task, info: Any, first: int | None = None, after: str | None = None
    ) -> Any:
        batch = loaders(info)
        batch.task_ids.add(root.pk)
        return paginate(
            lambda start, stop: batch.comment_page(root.pk, start, stop - start),
            lambda: batch.comment_counts.load(root.pk),
            first=first,
            after=after,
        )

    @classmethod
    def get_node(cls, info: Any, id: str) -> Any:
        task = selectors.task_get(viewer(info), decode_id(id, "Task"))
        loaders(info).saw_tasks([task])
        return task


class TaskConnection(CountableConnection):
    class Meta:
        node = Task


def resolve_task_list(
    info: Any,
    project_id: int | None,
    *,
    filter: dict[str, Any] | None = None,
    search: str | None = None,
    order_by: dict[str, Any] | None = None,
    **page: Any,
) -> Any:
    queryset = selectors.task_list(viewer(info), task_query(project_id, filter, search, order_by))
    batch = loaders(info)

    def fetch(start: int, stop: int) -> list[models.Task]:
        tasks = list(queryset[start:stop])
        batch.saw_tasks(tasks)
        return tasks

    return paginate(fetch, queryset.order_by().count, **page)


class Project(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)

    name = graphene.String(required=True)
    description = graphene.String(required=True)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)
    members = graphene.NonNull(graphene.List(graphene.NonNull(Membership)))
    viewer_role = graphene.Field(Role, description="Your role here.")
    tasks = graphene.Field(
        graphene.NonNull(TaskConnection), **task_list_args(), **connection_args()
    )
    webhooks = graphene.Field(
        graphene.NonNull(graphene.List(graphene.NonNull(Webhook))),
        description="Outgoing webhooks, for admins and the owner; empty for everyone else.",
    )

    @classmethod
    def is_type_of(cls, root: Any, info: Any) -> bool:
        return isinstance(root, models.Project)

    @staticmethod
    def resolve_webhooks(root: models.Project, info: Any) -> list[models.Webhook]:
        return project_webhooks(info, root.pk)

    @staticmethod
    def resolve_members(root: models.Project, info: Any) -> list[models.Membership]:
        return loaders(info).members.load(root.pk)

    @staticmethod
    def resolve_viewer_role(root: models.Project, info: Any) -> str | None:
        return loaders(info).viewer_roles.load(root.pk)

    @staticmethod
    def resolve_tasks(root: models.Project, info: Any, **args: Any) -> Any:
        return resolve_task_list(info, root.pk, **args)

    @classmethod
    def get_node(cls, info: Any, id: str) -> Any:
        project = selectors.project_get(viewer(info), decode_id(id, "Project"))
        loaders(info).saw_projects([project])
        return project


class ProjectConnection(CountableConnection):
    class Meta:
        node = Project


# The `Event` fields whose resolvers read only the event payload (the root dict), never the
# database or the viewer: a selection of only these renders the same for every subscriber.
EVENT_PAYLOAD_FIELDS: frozenset[str] = frozenset({"id", "type", "data", "createdAt"})


class Event(graphene.ObjectType):
    """One entry of a project's activity log; also what subscriptions deliver."""

    # The root is always the dict of `tasks.events.event_payload(event)`.

    id = graphene.ID(required=True, description="Monotonic; usable as a cursor (`after`).")
    type = graphene.String(required=True)
    project = graphene.Field(Project)
    task = graphene.Field(Task, description="Null once the task is deleted.")
    actor = graphene.Field(User)
    data = graphene.Field(JSON, description="The changed object as the API shows it.")
    created_at = graphene.DateTime(required=True)

    @staticmethod
    def resolve_id(root: dict[str, Any], info: Any) -> str:
        return str(root["id"])

    @staticmethod
    def resolve_type(root: dict[str, Any], info: Any) -> str:
        return root["type"]  # type: ignore[no-any-return]

    @staticmethod
    def resolve_project(root: dict[str, Any], info: Any) -> Any:
        project_id = decode_id(root["projectId"], "Project")
        return loaders(info).projects.load(project_id)

    @staticmethod
    def resolve_task(root: dict[str, Any], info: Any) -> Any:
        if not root.get("taskId"):
            return None
        task_id = decode_id(root["taskId"], "Task")
        return loaders(info).tasks.load(task_id)

    @staticmethod
    def resolve_actor(root: dict[str, Any], info: Any) -> Any:
        actor = root.get("actor")
        if not actor:
            return None
        if _in_event_loop():
            # Subscriptions selecting only what the payload carries run in the event loop,
            # where the ORM is off limits (realtime/event_execution.py); the payload's actor is
            # the same row, read when the payload was built.
            return _payload_user(actor)
        return loaders(info).users.load(actor["pk"])

    @staticmethod
    def resolve_data(root: dict[str, Any], info: Any) -> Any:
        return root.get("data") or {}

    @staticmethod
    def resolve_created_at(root: dict[str, Any], info: Any) -> datetime:
        value = root["createdAt"]
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class EventConnection(CountableConnection):
    class Meta:
        node = Event
