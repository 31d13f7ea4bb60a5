"""`changes(projectId, since, first)`: delta sync over GraphQL, a thin adapter over
`tasks.changes` (which documents the algorithm and the cursors).

The changed objects are the schema's own types, so a client applies them with the same code as a
fresh query's results; their relations go through the per-request loaders (the objects are
announced to them), so the queries stay flat in page size."""

from __future__ import annotations

from typing import Any

import graphene
from graphql_relay import to_global_id

from tasks import changes

from .context import loaders, viewer
from .errors import bad_user_input, coded
from .ids import decode_id
from .types import Attachment, Comment, Membership, Project, Task

SINCE_DESCRIPTION = (
    "A cursor from an earlier `changes` answer (`cursor`) or from `Project.changesCursor`: only "
    "what changed after it. Omitted: from the beginning of the project's log (CURSOR_TOO_OLD once "
    "events were pruned)."
)


class ChangedType(graphene.Enum):
    """What kind of object a tombstone stands for."""

    TASK = changes.TASK
    COMMENT = changes.COMMENT
    ATTACHMENT = changes.ATTACHMENT
    MEMBERSHIP = changes.MEMBERSHIP

    @property
    def description(self) -> str:
        return {
            "TASK": "A task; its comments and attachments are gone with it.",
            "COMMENT": "A comment.",
            "ATTACHMENT": "An attachment.",
            "MEMBERSHIP": "A membership; `id` is the former member's User id.",
        }[self.name]


class Tombstone(graphene.ObjectType):
    """Something that changed since the cursor and no longer exists (or that you may no longer
    see): remove it. A task's tombstone also removes every comment and attachment of that task,
    listed or not (deleting a task deletes them without changes of their own). An object created
    and deleted after the cursor also gets one: ignore ids you never had."""

    type = graphene.Field(ChangedType, required=True, description="What kind of object it was.")
    id = graphene.ID(
        required=True,
        description="The object's global ID (for a MEMBERSHIP: the former member's User ID).",
    )
    project_id = graphene.ID(required=True, description="The project it belonged to.")
    task_id = graphene.ID(description="For a COMMENT or ATTACHMENT: the task it belonged to.")

    @staticmethod
    def resolve_type(root: changes.Tombstone, info: Any) -> str:
        return root.kind

    @staticmethod
    def resolve_id(root: changes.Tombstone, info: Any) -> str:
        type_name = "User" if root.kind == changes.MEMBERSHIP else root.kind.capitalize()
        return to_global_id(type_name, root.pk)

    @staticmethod
    def resolve_project_id(root: changes.Tombstone, info: Any) -> str:
        return to_global_id("Project", root.project_id)

    @staticmethod
    def resolve_task_id(root: changes.Tombstone, info: Any) -> str | None:
        return to_global_id("Task", root.task_id) if root.task_id is not None else None


def _list(of: type[graphene.ObjectType], description: str) -> graphene.NonNull:
    return graphene.NonNull(graphene.List(graphene.NonNull(of)), description=description)


class Changes(graphene.ObjectType):
    """What changed in a project since a cursor, as current state: every object once, in its
    latest version (apply it: insert or replace by id), and tombstones for what is gone. Apply
    `deleted` after the objects. Then continue with `cursor` while `hasMore`. Derived values
    (`Task.commentCount`, `Task.attachments`) are not re-sent when only a child changed: a
    client recomputes them from the children it keeps."""

    project = graphene.Field(
        Project, description="The project, when its name or description changed; null otherwise."
    )
    tasks = _list(Task, "Tasks created or changed, by id.")
    comments = _list(Comment, "Comments written or edited, by id.")
    attachments = _list(Attachment, "Attachments added or processed, by id.")
    members = _list(Membership, "Memberships added or whose role changed, by member id.")
    deleted = _list(
        Tombstone, "What was deleted (or left the project): tasks first, then the rest."
    )
    cursor = graphene.String(
        required=True,
        description="Pass it as `since` next time: the position after everything in this answer.",
    )
    has_more = graphene.Boolean(
        required=True, description="More changes follow: ask again now with `cursor`."
    )


def changes_field() -> graphene.Field:
    return graphene.Field(
        graphene.NonNull(Changes),
        project_id=graphene.ID(required=True, description="The project's global ID."),
        since=graphene.String(description=SINCE_DESCRIPTION),
        first=graphene.Int(
            description=f"At most this many objects (default {changes.DEFAULT_PAGE_SIZE}, at "
            f"most {changes.MAX_PAGE_SIZE})."
        ),
        description="Delta sync: the current state of every task, comment, attachment and "
        "membership (and the project) changed after `since`, with tombstones for deletions. "
        "Bootstrap: read `Project.changesCursor` before the state you keep (in an earlier request, "
        "or ahead of the state's fields in the same query), then call this with it. "
        "CURSOR_TOO_OLD when the log was pruned past `since` (re-fetch the state with a new "
        "`changesCursor`); BAD_USER_INPUT for a cursor of another project or not issued by this "
        "server; NOT_FOUND unless you are a member.",
    )


def resolve_changes(
    root: None, info: Any, project_id: str, since: str | None = None, first: int | None = None
) -> changes.ChangeSet:
    if first is not None and not 1 <= first <= changes.MAX_PAGE_SIZE:
        raise bad_user_input(f"`first` must be between 1 and {changes.MAX_PAGE_SIZE}.")
    try:
        result = changes.changes(
            viewer(info), decode_id(project_id, "Project"), since=since, first=first
        )
    except changes.InvalidChangesCursor:
        raise bad_user_input("`since` is not a changes cursor of this project.") from None
    except changes.CursorTooOld as error:
        raise coded(str(error), changes.CURSOR_TOO_OLD) from None
    batch = loaders(info)
    batch.saw_tasks(result.tasks)
    # The tasks of the changed comments and attachments, so `task` on each is one batched query.
    batch.task_ids.update(c.task_id for c in result.comments)
    batch.task_ids.update(a.task_id for a in result.attachments)
    if result.project is not None:
        batch.saw_projects([result.project])
    return result
