"""The query root of API.md. Reads go through `tasks.selectors`."""

from __future__ import annotations

import binascii
from typing import Any

import graphene
from graphene import relay
from graphql_relay import from_global_id

from tasks import orderings, selectors
from tasks.errors import NotFound
from tasks.events import event_payload

from .changes import changes_field, resolve_changes
from .connections import page_arguments
from .context import loaders, viewer
from .ids import decode_id
from .inputs import task_list_args
from .pagination import MAX_PAGE_SIZE, IdCursors, Page, paginate
from .types import (
    Attachment,
    Comment,
    EventConnection,
    Project,
    ProjectConnection,
    Task,
    TaskConnection,
    User,
    resolve_task_list,
)
from .webhook_types import Webhook, WebhookDelivery

NODE_TYPES: dict[str, Any] = {
    "Project": Project,
    "Task": Task,
    "Comment": Comment,
    "Attachment": Attachment,
    "User": User,
    "Webhook": Webhook,
    "WebhookDelivery": WebhookDelivery,
}


class Query(graphene.ObjectType):
    """Everything you can read. Objects outside your projects are not found, never forbidden."""

    viewer = graphene.Field(graphene.NonNull(User), description="The authenticated user.")
    node = graphene.Field(
        relay.Node,
        id=graphene.ID(required=True, description="A global ID, as any object's `id` gives."),
        description="Any object by its global ID (Relay); null with a NOT_FOUND error if it does "
        "not exist or you may not see it.",
    )
    projects = graphene.Field(
        graphene.NonNull(ProjectConnection),
        description="Your projects, newest first.",
        **page_arguments(),
    )
    project = graphene.Field(
        Project,
        id=graphene.ID(required=True, description="The project's global ID."),
        description="One of your projects (NOT_FOUND otherwise).",
    )
    task = graphene.Field(
        Task,
        id=graphene.ID(required=True, description="The task's global ID."),
        description="A task in one of your projects (NOT_FOUND otherwise).",
    )
    tasks = graphene.Field(
        TaskConnection,
        project_id=graphene.ID(description="All visible projects when omitted."),
        description="Tasks of one project, or of all your projects; newest first unless "
        "`orderBy` says otherwise.",
        **task_list_args(),
        **page_arguments(),
    )
    activity = graphene.Field(
        EventConnection,
        project_id=graphene.ID(required=True, description="The project's global ID."),
        first=graphene.Int(description=f"At most {MAX_PAGE_SIZE}."),
        after=graphene.String(description="An event id: only later events."),
        description="A project's activity log (every change, as `Event`s), oldest first.",
    )
    changes = changes_field()

    @staticmethod
    def resolve_viewer(root: None, info: Any) -> Any:
        return viewer(info)

    @staticmethod
    def resolve_node(root: None, info: Any, id: str) -> Any:
        try:
            type_name, _ = from_global_id(id)
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
            raise NotFound("node") from None
        node_type = NODE_TYPES.get(type_name)
        if node_type is None:
            raise NotFound("node")
        return node_type.get_node(info, id)

    @staticmethod
    def resolve_projects(root: None, info: Any, **page: Any) -> Page:
        queryset = selectors.visible_projects(viewer(info))
        batch = loaders(info)

        def nodes(projects: list[Any]) -> list[Any]:
            batch.saw_projects(projects)
            return projects

        ordering = orderings.projects("projects")
        return paginate(queryset, ordering, queryset.order_by().count, nodes=nodes, **page)

    @staticmethod
    def resolve_project(root: None, info: Any, id: str) -> Any:
        return Project.get_node(info, id)

    @staticmethod
    def resolve_task(root: None, info: Any, id: str) -> Any:
        return Task.get_node(info, id)

    @staticmethod
    def resolve_tasks(root: None, info: Any, project_id: str | None = None, **args: Any) -> Any:
        """The project's visibility is checked by the page query itself (it only reads tasks of
        the viewer's projects): a page with a task proves it, so only an empty page (or a
        refused argument) pays the separate check that tells NOT_FOUND from an empty project.
        One SQL query fewer per list (issue 19)."""
        if project_id is None:
            return resolve_task_list(info, None, **args)
        pk = decode_id(project_id, "Project")
        try:
            page = resolve_task_list(info, pk, **args)
        except Exception:
            selectors.project_get(viewer(info), pk)  # NOT_FOUND comes first, as it always did
            raise
        if not page.edges:
            selectors.project_get(viewer(info), pk)
        return page

    @staticmethod
    def resolve_changes(root: None, info: Any, **args: Any) -> Any:
        return resolve_changes(root, info, **args)

    @staticmethod
    def resolve_activity(root: None, info: Any, project_id: str, **page: Any) -> Page:
        queryset = selectors.project_events(viewer(info), decode_id(project_id, "Project"))

        def nodes(events: list[Any]) -> list[dict[str, Any]]:
            payloads = [event_payload(event) for event in events]
            loaders(info).saw_events(payloads, decode_id)
            return payloads

        cursors = IdCursors(orderings.oldest_first("activity"))
        return paginate(queryset, cursors, queryset.order_by().count, nodes=nodes, **page)
