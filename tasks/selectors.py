"""Reads, always scoped by membership: what the actor may not see simply does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Case, F, IntegerField, Model, QuerySet, Value, When

from . import search
from .errors import NotFound
from .models import PRIORITY_RANK, Attachment, Comment, Event, Membership, Project, Task

Actor = User | AnonymousUser

# The widest id any table can hold. SQLite raises OverflowError on a bigger Python int, so a
# number from a client is checked against this before it reaches a query.
MAX_ID = 2**63 - 1


def is_storable_id(value: int) -> bool:
    return -MAX_ID <= value <= MAX_ID


def _user_id(actor: Actor | None) -> int | None:
    if actor is None or not actor.is_authenticated:
        return None
    return int(actor.pk)


def member_project_ids(actor: Actor | None) -> QuerySet[Membership, Any]:
    user_id = _user_id(actor)
    if user_id is None:
        return Membership.objects.none().values("project_id")
    return Membership.objects.filter(user_id=user_id).values("project_id")


def visible_projects(actor: Actor | None) -> QuerySet[Project]:
    return Project.objects.filter(pk__in=member_project_ids(actor))


def visible_tasks(actor: Actor | None) -> QuerySet[Task]:
    return Task.objects.filter(project_id__in=member_project_ids(actor))


def visible_comments(actor: Actor | None) -> QuerySet[Comment]:
    return Comment.objects.filter(task__project_id__in=member_project_ids(actor))


def visible_attachments(actor: Actor | None) -> QuerySet[Attachment]:
    return Attachment.objects.filter(task__project_id__in=member_project_ids(actor))


def role_of(actor: Actor | None, project_id: int) -> str | None:
    user_id = _user_id(actor)
    if user_id is None:
        return None
    return (
        Membership.objects.filter(user_id=user_id, project_id=project_id)
        .values_list("role", flat=True)
        .first()
    )


# The attribute the `*_and_role` selectors annotate: the actor's role in the object's project.
ACTOR_ROLE = "actor_role"


def _with_role[M: Model](
    queryset: QuerySet[M], actor: Actor | None, memberships: str
) -> QuerySet[M]:
    """The rows of `queryset` in the actor's projects (`memberships`: the path to the project's
    memberships, e.g. `task__project__memberships`), each annotated with the actor's role there
    (`ACTOR_ROLE`): the scope of `visible_*`, as a join on the actor's membership instead of
    `IN (subquery)`, so the same row answers `role_of`. (project, user) is unique, so the join
    adds no rows. An annotation after a filter() across the same multi-valued relation reuses
    the filter's join, so the role is read from the membership row the filter matched, the
    actor's (tests/tasks/test_selectors.py checks the roles and the single join). One query
    where a lookup and `role_of` are two, and less ORM work than either the two or a role
    `Subquery` (SQLite, in-process, a task by id with the actor's role: `task_get` + `role_of`
    1.13 ms; with a correlated `Subquery` 1.16 ms; this join 0.68 ms)."""
    user_id = _user_id(actor)
    if user_id is None:
        return queryset.none()
    annotated: QuerySet[M] = queryset.filter(**{f"{memberships}__user_id": user_id}).annotate(
        **{ACTOR_ROLE: F(f"{memberships}__role")}
    )
    return annotated


def role_annotation(instance: Any) -> str | None:
    """The role a `*_and_role` selector annotated `instance` with."""
    role: str | None = getattr(instance, ACTOR_ROLE)
    return role


def _get(queryset: QuerySet[Any], pk: object, what: str) -> Any:
    if isinstance(pk, bool | float):  # int() would turn True into 1 and 1.5 into 1
        raise NotFound(what)
    try:
        return queryset.get(pk=int(pk))  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise NotFound(what) from None
    except queryset.model.DoesNotExist:
        raise NotFound(what) from None


def project_get(actor: Actor | None, project_id: object) -> Project:
    return _get(visible_projects(actor), project_id, "project")  # type: ignore[no-any-return]


def task_get(actor: Actor | None, task_id: object) -> Task:
    return _get(  # type: ignore[no-any-return]
        visible_tasks(actor).select_related("project", "assignee", "created_by"), task_id, "task"
    )


def project_and_role(
    actor: Actor | None, project_id: object, *, lock: bool = False
) -> tuple[Project, str | None]:
    """`project_get` and `role_of` in one query; `lock` as in `task_and_role`."""
    queryset = _with_role(Project.objects.all(), actor, "memberships")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    project: Project = _get(queryset, project_id, "project")
    return project, role_annotation(project)


def task_and_role(
    actor: Actor | None, task_id: object, *, lock: bool = False, joined: bool = True
) -> tuple[Task, str | None]:
    """`task_get` and `role_of` in one query. With `lock`, the task's row is locked for the
    transaction (`FOR UPDATE OF` the task alone: neither the membership nor the users joined).
    The membership filter is part of the locking statement, and PostgreSQL locks only the rows
    that statement returns (LockRows sits above the joins and the filter; EXPLAIN shows it), so
    a non-member's query finds nothing and locks nothing (tests/tasks/test_concurrency.py). The
    role is read with the statement's snapshot. `joined=False` leaves out the project, assignee
    and creator (`task_get` joins them): for a caller that needs the task's own columns only
    (adding a comment), ~0.3 ms less ORM work; the GraphQL types batch-load what is not joined."""
    queryset = _with_role(Task.objects.all(), actor, "project__memberships")
    if joined:
        queryset = queryset.select_related("project", "assignee", "created_by")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    task: Task = _get(queryset, task_id, "task")
    return task, role_annotation(task)


def comment_get(actor: Actor | None, comment_id: object) -> Comment:
    return _get(  # type: ignore[no-any-return]
        visible_comments(actor).select_related("task", "author"), comment_id, "comment"
    )


def comment_and_role(actor: Actor | None, comment_id: object) -> tuple[Comment, str | None]:
    """`comment_get` and `role_of` (in the comment's project) in one query."""
    queryset = _with_role(
        Comment.objects.all(), actor, "task__project__memberships"
    ).select_related("task", "author")
    comment: Comment = _get(queryset, comment_id, "comment")
    return comment, role_annotation(comment)


def attachment_get(actor: Actor | None, attachment_id: object) -> Attachment:
    return _get(  # type: ignore[no-any-return]
        visible_attachments(actor).select_related("task", "uploaded_by"),
        attachment_id,
        "attachment",
    )


def project_members(actor: Actor | None, project_id: object) -> QuerySet[Membership]:
    project = project_get(actor, project_id)
    return Membership.objects.filter(project=project).select_related("user")


# --- Task lists -----------------------------------------------------------------------------------

ORDER_FIELDS = {"created_at", "updated_at", "due_date", "priority", "title"}


@dataclass(frozen=True)
class TaskQuery:
    """What a client may ask of a task list; every transport builds one of these."""

    project_id: int | None = None
    statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    assignee_id: int | None = None
    unassigned: bool | None = None
    due_before: date | None = None
    due_after: date | None = None
    search: str | None = None
    order_field: str = "created_at"
    descending: bool = True


def search_tasks(queryset: QuerySet[Task], text: str) -> QuerySet[Task]:
    """Every word typed, folded (case, accents), as a substring of the task's title or
    description: the same on every database (see `tasks.search`). Order is the caller's."""
    for word in search.words(text):
        queryset = queryset.filter(search_text__contains=word)
    return queryset


def order_key(field_name: str, descending: bool) -> list[Any]:
    """Stable ordering for any supported field; nulls last; priority by severity."""
    from django.db.models import F

    if field_name not in ORDER_FIELDS:
        raise ValueError(field_name)
    if field_name == "priority":
        expression: Any = Case(
            *(When(priority=value, then=Value(rank)) for value, rank in PRIORITY_RANK.items()),
            output_field=IntegerField(),
        )
    else:
        expression = F(field_name)
    primary = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    tiebreak = F("id").desc() if descending else F("id").asc()
    return [primary, tiebreak]


def task_list(actor: Actor | None, query: TaskQuery) -> QuerySet[Task]:
    queryset = visible_tasks(actor)
    for value in (query.project_id, query.assignee_id):
        if value is not None and not is_storable_id(value):
            return queryset.none()
    if query.project_id is not None:
        queryset = queryset.filter(project_id=query.project_id)
    if query.statuses:
        queryset = queryset.filter(status__in=query.statuses)
    if query.priorities:
        queryset = queryset.filter(priority__in=query.priorities)
    if query.assignee_id is not None:
        queryset = queryset.filter(assignee_id=query.assignee_id)
    if query.unassigned is True:
        queryset = queryset.filter(assignee__isnull=True)
    elif query.unassigned is False:
        queryset = queryset.filter(assignee__isnull=False)
    if query.due_before is not None:
        queryset = queryset.filter(due_date__lt=query.due_before)
    if query.due_after is not None:
        queryset = queryset.filter(due_date__gt=query.due_after)
    if query.search:
        queryset = search_tasks(queryset, query.search)
    return queryset.order_by(*order_key(query.order_field, query.descending))


def task_comments(actor: Actor | None, task_id: object) -> QuerySet[Comment]:
    task = task_get(actor, task_id)
    return Comment.objects.filter(task=task).select_related("author")


def task_attachments(actor: Actor | None, task_id: object) -> QuerySet[Attachment]:
    task = task_get(actor, task_id)
    return Attachment.objects.filter(task=task).select_related("uploaded_by")


# --- Events ---------------------------------------------------------------------------------------


def project_events(
    actor: Actor | None,
    project_id: object,
    *,
    after: int | None = None,
    after_seq: int | None = None,
) -> QuerySet[Event]:
    """The project's events after the event id `after` (oldest first), or, with `after_seq`,
    after that place in the project's log, in `seq` (commit) order: what a stream replays."""
    project = project_get(actor, project_id)
    queryset = Event.objects.filter(project=project).select_related("actor")
    return _after(queryset, after, after_seq)


def task_events(
    actor: Actor | None,
    task_id: object,
    *,
    after: int | None = None,
    after_seq: int | None = None,
) -> QuerySet[Event]:
    """The task's events; `after`/`after_seq` as in `project_events` (the project's `seq`)."""
    task = task_get(actor, task_id)
    queryset = Event.objects.filter(project_id=task.project_id, task_id=task.pk).select_related(
        "actor"
    )
    return _after(queryset, after, after_seq)


def _after(
    queryset: QuerySet[Event], after: int | None, after_seq: int | None = None
) -> QuerySet[Event]:
    if after_seq is not None:
        if after_seq >= MAX_ID:
            return queryset.none()
        return queryset.filter(seq__gt=max(after_seq, 0)).order_by("seq")
    if after is None:
        return queryset.order_by("id")
    if after >= MAX_ID:
        return queryset.none()
    return queryset.filter(id__gt=max(after, 0)).order_by("id")
