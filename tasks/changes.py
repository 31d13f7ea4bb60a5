"""Delta sync: the current state of everything in a project that changed since a client's cursor.

A client that was offline stores a cursor (a position in the project's event log, `Event.seq`)
and asks for what changed after it. The answer is state, not history: every task, comment,
attachment and membership (and the project itself) named by an event after the cursor appears
once, in its version at the time of the request; what no longer exists (or is no longer
visible) appears as a tombstone. A page stops once `first` distinct objects are collected (or
after `SCAN_LIMIT` events), and its cursor is the `seq` of the last event it consumed, so a
client that applies every page in order ends with a fresh query's state however many events
happened, in about `changes / first` requests.

Why positions are `seq` and not the global event `id`: per project, `seq` order is commit order
(tasks.events._next_seq), so the events a reader sees are always a gap-free prefix of the log,
and "everything after position p" cannot skip a change that committed late.

Consistency: the events are read before the objects, so an object's state is never older than
the events consumed (it may be newer: its later event then delivers it again, which is harmless:
apply idempotently). Deleting a task deletes its comments and attachments without events of their
own: a task tombstone implies the deletion of all its children.

Cursors are opaque: Django's `Signer` over `{v, p, s}` (version, project, seq), salted for this
purpose, like the list cursors of `tasks.keyset`. A cursor of another project, edited or invented
is `InvalidChangesCursor`; a position the retention job has pruned past (tasks.retention) is
`CursorTooOld`, after which the client must re-fetch state (and take a new cursor first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.db.models import QuerySet

from .errors import DomainError, NotFound
from .models import Attachment, Comment, Event, Membership, Project, ProjectLog, Task
from .retention import replay_floor
from .selectors import (
    Actor,
    project_get,
    visible_attachments,
    visible_comments,
    visible_projects,
    visible_tasks,
)

# Page sizes, the same for every transport: 500 changes to 500 objects take 5 requests at most.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 100
# The most events one request reads: a page may hold fewer than `first` objects (many events
# about few objects) while `has_more` is true; each request still consumes this many events.
SCAN_LIMIT = 1000
# The error reason shared with the resumable streams (GraphQL `extensions.code`).
CURSOR_TOO_OLD = "CURSOR_TOO_OLD"

_SALT = "tasks.changes.cursor"
_VERSION = 1
_MAX_CURSOR_LENGTH = 500
_MAX_SEQ = 2**63 - 1

TASK = "task"
COMMENT = "comment"
ATTACHMENT = "attachment"
MEMBERSHIP = "membership"
PROJECT = "project"


class InvalidChangesCursor(ValueError):
    """A cursor this server did not issue for this project, or one that was altered."""


class CursorTooOld(DomainError):
    """The cursor's position was pruned from the log: changes since then cannot all be told, the
    client must re-fetch the state (after taking a new cursor)."""

    def __init__(self, floor: int) -> None:
        super().__init__("The cursor is older than the event log's retention; re-fetch the state.")
        self.floor = floor


# --- Cursors --------------------------------------------------------------------------------------


def encode_cursor(project_id: int, seq: int) -> str:
    payload = {"v": _VERSION, "p": project_id, "s": seq}
    return signing.Signer(salt=_SALT, algorithm="sha256").sign_object(payload)


def decode_cursor(project_id: int, cursor: object) -> int:
    """The `seq` a cursor of this project names, or `InvalidChangesCursor`."""
    if not isinstance(cursor, str) or not 0 < len(cursor) <= _MAX_CURSOR_LENGTH:
        raise InvalidChangesCursor("not a changes cursor")
    try:
        payload = signing.Signer(salt=_SALT, algorithm="sha256").unsign_object(cursor)
    except (signing.BadSignature, ValueError, UnicodeError):
        raise InvalidChangesCursor("not a changes cursor this server issued") from None
    if not isinstance(payload, dict) or payload.get("v") != _VERSION:
        raise InvalidChangesCursor("unknown cursor version")
    if payload.get("p") != project_id:
        raise InvalidChangesCursor("a cursor of another project")
    seq = payload.get("s")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= _MAX_SEQ:
        raise InvalidChangesCursor("bad position")
    return seq


def heads(project_ids: list[int]) -> dict[int, int]:
    """Where each project's log stands (its last `seq`; 0 before its first event), in one query."""
    rows = ProjectLog.objects.filter(project_id__in=project_ids).values_list(
        "project_id", "last_seq"
    )
    found = dict(rows)
    return {pk: int(found.get(pk, 0)) for pk in project_ids}


def head_cursor(actor: Actor | None, project_id: object) -> str:
    """The cursor of the log's current head, for a client about to fetch the project's state:
    taken before the state is read, `changes(since: it)` later misses nothing."""
    project = project_get(actor, project_id)
    return encode_cursor(project.pk, heads([project.pk])[project.pk])


# --- Change sets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tombstone:
    """Something that changed and no longer exists (or is no longer visible). `pk` is the
    object's id; for a membership, the member's user id. `task_id`: the task a comment or
    attachment belonged to."""

    kind: str
    pk: int
    project_id: int
    task_id: int | None = None


@dataclass
class ChangeSet:
    project: Project | None
    tasks: list[Task] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    members: list[Membership] = field(default_factory=list)
    deleted: list[Tombstone] = field(default_factory=list)
    seq: int = 0
    has_more: bool = False
    project_id: int = 0

    @property
    def cursor(self) -> str:
        return encode_cursor(self.project_id, self.seq)


def _key(row: Mapping[str, Any]) -> tuple[str, int] | None:
    kind = str(row["type"]).partition(".")[0]
    if kind == TASK:
        return (TASK, int(row["task_id"]))
    if kind in (COMMENT, ATTACHMENT):
        return (kind, int(row["data__pk"]))
    if kind == "member":
        return (MEMBERSHIP, int(row["data__user__pk"]))
    if kind == PROJECT:
        return (PROJECT, int(row["project_id"]))
    return None


def page_size(first: int | None) -> int:
    """`first` checked and defaulted; transports check the range first with their own errors."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise ValueError(first)
    return first


def changes(
    actor: Actor | None, project_id: object, *, since: str | None = None, first: int | None = None
) -> ChangeSet:
    """Everything in the project changed after the cursor `since` (from the start of the log when
    omitted), at most `first` objects. Members only (`NotFound` otherwise).

    Queries, whatever the page size: the membership check, the replay floor, the events, then
    one per kind of object the events name (tasks, comments, attachments, memberships, and the
    project when it was updated)."""
    size = page_size(first)
    project = project_get(actor, project_id)
    after = 0 if since is None else decode_cursor(project.pk, since)
    floor = replay_floor(project.pk)
    if after < floor:
        raise CursorTooOld(floor)
    rows = list(
        Event.objects.filter(project_id=project.pk, seq__gt=after)
        .order_by("seq")
        .values("seq", "type", "project_id", "task_id", "data__pk", "data__user__pk")[
            : SCAN_LIMIT + 1
        ]
    )
    seen: dict[tuple[str, int], int | None] = {}  # object -> the task it belongs to
    consumed = after
    has_more = len(rows) > SCAN_LIMIT
    for row in rows[:SCAN_LIMIT]:
        key = _key(row)
        if key is not None and key not in seen:
            if len(seen) == size:
                has_more = True
                break
            seen[key] = row["task_id"]
        consumed = int(row["seq"])
    result = ChangeSet(project=None, seq=consumed, has_more=has_more, project_id=project.pk)
    _load(actor, project, seen, result)
    return result


def _ids(seen: dict[tuple[str, int], int | None], kind: str) -> list[int]:
    return sorted(pk for k, pk in seen if k == kind)


def _load(
    actor: Actor | None,
    project: Project,
    seen: dict[tuple[str, int], int | None],
    result: ChangeSet,
) -> None:
    """Each object's current state through the visible-to-actor selectors, one query per kind;
    objects not found become tombstones."""
    pid = project.pk

    def fetch(kind: str, queryset: QuerySet[Any], key: str = "pk") -> list[Any]:
        ids = _ids(seen, kind)
        if not ids:
            return []
        rows = list(queryset.filter(**{f"{key}__in": ids}).order_by(key))
        found = {getattr(row, "user_id" if key == "user_id" else "pk") for row in rows}
        result.deleted.extend(
            Tombstone(kind, pk, pid, seen[(kind, pk)] if kind in (COMMENT, ATTACHMENT) else None)
            for pk in ids
            if pk not in found
        )
        return rows

    result.tasks = fetch(
        TASK, visible_tasks(actor).filter(project_id=pid).select_related("assignee", "created_by")
    )
    result.comments = fetch(
        COMMENT, visible_comments(actor).filter(task__project_id=pid).select_related("author")
    )
    result.attachments = fetch(
        ATTACHMENT,
        visible_attachments(actor).filter(task__project_id=pid).select_related("uploaded_by"),
    )
    result.members = fetch(
        MEMBERSHIP,
        Membership.objects.filter(project_id=pid)
        .filter(project_id__in=visible_projects(actor).values("pk"))
        .select_related("user"),
        key="user_id",
    )
    if (PROJECT, pid) in seen:
        # Read again, after the events: its state is at least as new as the events consumed.
        result.project = visible_projects(actor).filter(pk=pid).select_related("created_by").first()
        if result.project is None:  # deleted, or the actor left, since the check above
            raise NotFound("project")
    # Tasks first: a client deleting a task drops its children, which may be listed too.
    order = {TASK: 0, COMMENT: 1, ATTACHMENT: 2, MEMBERSHIP: 3}
    result.deleted.sort(key=lambda t: (order[t.kind], t.pk))
