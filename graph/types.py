"""The object types of API.md. Roots are model instances, except `Event`, whose root is always
the JSON-safe dict of `tasks.events.event_payload` (from the activity query and from
subscriptions alike). Every relation goes through the per-request loaders (`graph.dataloaders`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

import graphene
from django.contrib.auth import get_user_model
from django.db.models import Q
from graphene import relay

from tasks import models, orderings, selectors
from tasks.errors import NotFound

from .change_heads import changes_cursor
from .connections import DocumentedConnection, page_arguments
from .context import loaders, viewer
from .enums import Role, TaskPriority, TaskStatus
from .ids import decode_id
from .inputs import task_list_args, task_query
from .lookahead import selected
from .model_types import ModelObjectType
from .pagination import paginate, paginate_comments
from .presence import presence_field, resolve_project_presence
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


class User(ModelObjectType):
    """A person. `displayName` is the full name, or the username without one."""

    class Meta:
        model = get_user_model()
        fields = ("id", "username")
        interfaces = (relay.Node,)
        descriptions = {"username": "The login name, unique on this server."}

    display_name = graphene.String(
        required=True, description="The full name, or the username when there is none."
    )

    @staticmethod
    def resolve_display_name(root: Any, info: Any) -> str:
        full_name = f"{root.first_name} {root.last_name}".strip()
        return full_name or str(root.username)

    @classmethod
    def get_node(cls, info: Any, id: str) -> Any:
        """Yourself, or someone who shares a project with you; anyone else is not found."""
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


class Membership(ModelObjectType):
    """A user's place in a project, with their role there."""

    class Meta:
        model = models.Membership
        fields = ("user", "role", "joined_at")
        descriptions = {"joined_at": "When the user became a member."}

    user = graphene.Field(User, required=True, description="The member.")
    role = graphene.Field(Role, required=True, description="What the member may do here.")

    @staticmethod
    def resolve_user(root: models.Membership, info: Any) -> Any:
        return _related(root, "user", loaders(info).users.load)


class Attachment(ModelObjectType):
    """A file attached to a task. Images also get their `width` and `height`."""

    class Meta:
        model = models.Attachment
        fields = (
            "id",
            "task",
            "name",
            "size",
            "content_type",
            "sha256",
            "width",
            "height",
            "state",
            "uploaded_by",
            "uploaded_at",
        )
        interfaces = (relay.Node,)
        descriptions = {
            "name": "The file's original name, sanitised.",
            "content_type": "The media type, sniffed from the bytes (not the one sent).",
            "sha256": "The SHA-256 of the bytes, in hex.",
            "width": "In pixels, for an image once processed; null otherwise.",
            "height": "In pixels, for an image once processed; null otherwise.",
            "uploaded_at": "When the file was uploaded.",
        }

    task = graphene.Field(lambda: Task, description="The task it is attached to.")
    # graphene-django makes a PositiveBigIntegerField a `BigInt`; the contract says `Int!`.
    size = graphene.Int(required=True, description="In bytes.")
    url = graphene.String(required=True, description="Where to download the file (REST).")
    # The contract's String of the uppercased value, not a generated enum.
    state = graphene.String(required=True, description="PENDING, PROCESSED or FAILED.")
    uploaded_by = graphene.Field(User, description="Who uploaded it; null once deleted.")

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


class Comment(ModelObjectType):
    """A comment on a task. Its author may edit or delete it; admins may delete any."""

    class Meta:
        model = models.Comment
        fields = ("id", "task", "author", "body", "created_at", "edited_at")
        interfaces = (relay.Node,)
        connection_class = DocumentedConnection
        descriptions = {
            "body": "The text (1 to 5,000 characters).",
            "created_at": "When the comment was written.",
            "edited_at": "When the body last changed; null if never edited.",
        }

    task = graphene.Field(lambda: Task, description="The task commented on.")
    author = graphene.Field(User, description="Who wrote it; null once that user is deleted.")

    @staticmethod
    def resolve_task(root: models.Comment, info: Any) -> Any:
        return _related(root, "task", loaders(info).tasks.load)

    @staticmethod
    def resolve_author(root: models.Comment, info: Any) -> Any:
        return _related(root, "author", loaders(info).users.load)

    @classmethod
    def get_node(cls, info: Any, id: str) -> Any:
        return selectors.comment_get(viewer(info), decode_id(id, "Comment"))


CommentConnection = Comment._meta.connection


class Task(ModelObjectType):
    """A task in a project. `version` grows by one on every change (optimistic concurrency)."""

    class Meta:
        model = models.Task
        fields = (
            "id",
            "project",
            "title",
            "description",
            "status",
            "priority",
            "due_date",
            "assignee",
            "created_by",
            "created_at",
            "updated_at",
            "completed_at",
            "version",
        )
        interfaces = (relay.Node,)
        connection_class = DocumentedConnection
        descriptions = {
            "title": "1 to 200 characters, without surrounding whitespace.",
            "description": "Up to 10,000 characters; empty when there is none.",
            "due_date": "The day the task is due, if any.",
            "created_at": "When the task was created.",
            "updated_at": "When the task last changed.",
            "completed_at": "When the status became DONE; null while it is not DONE.",
            "version": "+1 on every change; see expectedVersion.",
        }

    project = graphene.Field(lambda: Project, required=True, description="The task's project.")
    status = graphene.Field(TaskStatus, required=True, description="Where the task stands.")
    priority = graphene.Field(
        TaskPriority, required=True, description="How urgent it is (MEDIUM unless set)."
    )
    assignee = graphene.Field(User, description="The member working on it, if any.")
    created_by = graphene.Field(User, description="Who created it; null once deleted.")
    comments = graphene.Field(
        graphene.NonNull(CommentConnection),
        description="The comments, oldest first.",
        **page_arguments(backwards=False),
    )
    attachments = graphene.NonNull(
        graphene.List(graphene.NonNull(Attachment)),
        description="The attached files, oldest first.",
    )
    comment_count = graphene.Int(required=True, description="How many comments the task has.")

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
        return paginate_comments(root.pk, batch, first=first, after=after)

    @classmethod
    def get_node(cls, info: Any, id: str) -> Any:
        task = selectors.task_get(viewer(info), decode_id(id, "Task"))
        loaders(info).saw_tasks([task])
        return task


TaskConnection = Task._meta.connection
# (GraphQL field of `Task`, foreign key to a user) that a task list joins when selected.
TASK_USER_JOINS = (("assignee", "assignee"), ("createdBy", "created_by"))


def resolve_task_list(
    info: Any,
    project_id: int | None,
    *,
    filter: dict[str, Any] | None = None,
    search: str | None = None,
    order_by: dict[str, Any] | None = None,
    **page: Any,
) -> Any:
    query = task_query(project_id, filter, search, order_by)
    queryset = selectors.task_list(viewer(info), query)
    # The users the nodes read come joined with the page (one query, not a loader's second).
    node_fields = selected(info, "edges", "node")
    joins = [fk for name, fk in TASK_USER_JOINS if name in node_fields]
    if joins:
        queryset = queryset.select_related(*joins)
    batch = loaders(info)

    def nodes(tasks: list[models.Task]) -> list[models.Task]:
        batch.saw_tasks(tasks)
        return tasks

    # One scope for `tasks` and `Project.tasks`: a position in the same ordering of tasks.
    ordering = orderings.task_ordering("tasks", query.order_field, query.descending)
    return paginate(queryset, ordering, queryset.order_by().count, nodes=nodes, **page)


class Project(ModelObjectType):
    """A project: its members, their roles, and its tasks. The creator is its OWNER."""

    class Meta:
        model = models.Project
        fields = ("id", "name", "description", "created_at", "updated_at")
        interfaces = (relay.Node,)
        connection_class = DocumentedConnection
        descriptions = {
            "name": "1 to 120 characters.",
            "description": "Up to 2,000 characters; empty when there is none.",
            "created_at": "When the project was created.",
            "updated_at": "When the project's name or description last changed.",
        }

    members = graphene.NonNull(
        graphene.List(graphene.NonNull(Membership)),
        description="Everyone in the project, with their roles.",
    )
    viewer_role = graphene.Field(Role, description="Your role here.")
    tasks = graphene.Field(
        graphene.NonNull(TaskConnection),
        description="The project's tasks, newest first unless `orderBy` says otherwise.",
        **task_list_args(),
        **page_arguments(),
    )
    webhooks = graphene.Field(
        graphene.NonNull(graphene.List(graphene.NonNull(Webhook))),
        description="Outgoing webhooks, for admins and the owner; empty for everyone else.",
    )
    changes_cursor = graphene.String(
        required=True,
        description="Where the project's change log stands now. Read it before the state you keep "
        "(in an earlier request, or ahead of the state's fields in the same query: fields resolve "
        "in order), then `changes(since:)` it to catch up later.",
    )

    @staticmethod
    def resolve_changes_cursor(root: models.Project, info: Any) -> str:
        return changes_cursor(info, root.pk)

    presence = presence_field()

    @staticmethod
    def resolve_presence(root: models.Project, info: Any) -> list[dict[str, Any]]:
        return resolve_project_presence(root.pk)

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


ProjectConnection = Project._meta.connection


# The `Event` fields whose resolvers read the event payload dict alone: never the viewer, the
# loaders or the database (GraphQL names; `__typename` reads nothing either). A selection within
# them answers the same for every subscriber, so realtime shares one rendering of it across
# subscribers (realtime/event_execution.py derives from this name); a test
# (tests/graph/test_event_payload_fields.py) fails if one of them reads the viewer or the database.
EVENT_PAYLOAD_FIELDS: frozenset[str] = frozenset({"id", "seq", "type", "data", "createdAt"})


class Event(graphene.ObjectType):
    """One entry of a project's activity log; also what subscriptions deliver.

    A graphene `ObjectType`, not a `DjangoObjectType`: its root is always the JSON-safe dict of
    `tasks.events.event_payload(event)` (from the activity query and from subscriptions alike),
    never a model instance, so there is no model whose fields a converter could read.
    `EVENT_PAYLOAD_FIELDS` (= `Event.payload_fields`) names the fields read from that dict alone.
    """

    payload_fields: ClassVar[frozenset[str]] = EVENT_PAYLOAD_FIELDS

    id = graphene.ID(required=True, description="Monotonic; usable as a cursor (`after`).")
    seq = graphene.Int(
        required=True,
        description="The event's place in its project's log: 1, 2, 3... with no gaps, in commit "
        "order. A client that sees a number skipped has missed an event and should resume.",
    )
    type = graphene.String(
        required=True, description="What happened, e.g. `task.created` or `comment.deleted`."
    )
    project = graphene.Field(Project, description="The project it happened in.")
    task = graphene.Field(Task, description="Null once the task is deleted.")
    actor = graphene.Field(User, description="Who made the change; null for the system.")
    data = graphene.Field(
        JSON,
        description="The changed object as the API shows it; for updates also "
        "`changedFields`, the names of the changed fields.",
    )
    created_at = graphene.DateTime(required=True, description="When it happened.")

    @staticmethod
    def resolve_id(root: dict[str, Any], info: Any) -> str:
        return str(root["id"])

    @staticmethod
    def resolve_seq(root: dict[str, Any], info: Any) -> int:
        return int(root["seq"])

    @staticmethod
    def resolve_type(root: dict[str, Any], info: Any) -> str:
        return str(root["type"])

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
        return loaders(info).users.load(actor["pk"])

    @staticmethod
    def resolve_data(root: dict[str, Any], info: Any) -> Any:
        return root.get("data") or {}

    @staticmethod
    def resolve_created_at(root: dict[str, Any], info: Any) -> datetime:
        value = root["createdAt"]
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class EventConnection(DocumentedConnection):
    """A page of a project's activity, oldest first; cursors are event ids."""

    class Meta:
        node = Event
