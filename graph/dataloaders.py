"""Per-request batch loading that keeps every relation N+1 free with a synchronous executor.

A page of tasks (or any list) announces the keys it holds (`Loaders.saw_tasks`); the first time a
resolver asks for one relation, the loader fetches it for every announced key at once and caches
the result for the rest of the request. So the number of queries depends on which relations a
query selects, never on the page size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.db.models import Count, Field, Model
from django.db.models.base import ModelState

from tasks.models import Attachment, Comment, Membership, Project, Task
from tasks.selectors import visible_projects, visible_tasks

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

USER_FIELDS = ("id", "username", "first_name", "last_name")
PROJECT_FIELDS = ("id", "name", "description", "created_at", "updated_at")
ATTACHMENT_FIELDS = (
    "id",
    "task_id",
    "file",
    "name",
    "size",
    "content_type",
    "sha256",
    "width",
    "height",
    "state",
    "uploaded_by_id",
    "uploaded_at",
)
COMMENT_FIELDS = ("id", "task_id", "author_id", "body", "created_at", "edited_at")
M = TypeVar("M", bound=Model)


def _user_columns(prefix: str) -> list[str]:
    return [f"{prefix}__{name}" for name in USER_FIELDS]


class BatchLoader[K: Hashable, V]:
    """Loads `fetch(keys) -> {key: value}` for all announced keys on the first miss."""

    def __init__(self, fetch: Callable[[list[K]], dict[K, V]], known: set[K], default: Any) -> None:
        self._fetch = fetch
        self._known = known
        self._default = default
        self._cache: dict[K, V] = {}

    def load(self, key: K) -> V:
        try:
            return self._cache[key]
        except KeyError:
            pass
        keys = [k for k in self._known if k not in self._cache]
        if key not in self._known:
            keys.append(key)
        found = self._fetch(keys)
        default = self._default
        for k in keys:
            self._cache[k] = found.get(k, default() if callable(default) else default)
        return self._cache[key]

    def prime(self, key: K, value: V) -> None:
        self._cache.setdefault(key, value)


def _grouped(rows: Iterable[Any], attr: str) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, attr)].append(row)
    return groups


class Loaders:
    def __init__(self, user: Any) -> None:
        self.user = user
        self.task_ids: set[int] = set()
        self.project_ids: set[int] = set()
        self.user_ids: set[int] = set()
        self.users: BatchLoader[int, Any] = BatchLoader(self._users, self.user_ids, None)
        self.projects: BatchLoader[int, Project | None] = BatchLoader(
            self._projects, self.project_ids, None
        )
        self.tasks: BatchLoader[int, Task | None] = BatchLoader(self._tasks, self.task_ids, None)
        self.viewer_roles: BatchLoader[int, str | None] = BatchLoader(
            self._roles, self.project_ids, None
        )
        self.members: BatchLoader[int, list[Membership]] = BatchLoader(
            self._members, self.project_ids, list
        )
        self.comment_counts: BatchLoader[int, int] = BatchLoader(
            self._comment_counts, self.task_ids, 0
        )
        self.attachments: BatchLoader[int, list[Attachment]] = BatchLoader(
            self._attachments, self.task_ids, list
        )
        self._comment_pages: dict[tuple[int, int], BatchLoader[int, list[Comment]]] = {}

    # --- Announcing what a list holds ---------------------------------------------------------

    def saw_tasks(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            self.task_ids.add(task.pk)
            self.project_ids.add(task.project_id)
            joined = task._state.fields_cache  # users joined by the list's select_related
            for name, key in (("assignee", task.assignee_id), ("created_by", task.created_by_id)):
                if key is not None:
                    self.user_ids.add(key)
                    if name in joined:
                        self.users.prime(key, joined[name])
            self.tasks.prime(task.pk, task)

    def saw_projects(self, projects: Iterable[Project]) -> None:
        for project in projects:
            self.project_ids.add(project.pk)
            self.projects.prime(project.pk, project)

    def saw_events(self, payloads: Iterable[dict[str, Any]], decode: Callable[..., Any]) -> None:
        for payload in payloads:
            self.project_ids.add(decode(payload["projectId"], "Project"))
            if payload.get("taskId"):
                self.task_ids.add(decode(payload["taskId"], "Task"))

    def comment_page(self, task_id: int, offset: int, limit: int) -> list[Comment]:
        """Comments `offset`..`offset+limit` of a task, batched over every announced task with a
        window function (one query per distinct page arguments, not per task)."""
        key = (offset, limit)
        loader = self._comment_pages.get(key)
        if loader is None:
            loader = BatchLoader(
                lambda ids: self._comments(ids, offset, limit), self.task_ids, list
            )
            self._comment_pages[key] = loader
        return loader.load(task_id)

    # --- Fetching -----------------------------------------------------------------------------

    def _users(self, ids: list[int]) -> dict[int, Any]:
        users = get_user_model().objects.filter(pk__in=ids).only(*USER_FIELDS)
        return {user.pk: user for user in users}

    def _projects(self, ids: list[int]) -> dict[int, Project | None]:
        projects = visible_projects(self.user).filter(pk__in=ids).only(*PROJECT_FIELDS)
        return {project.pk: project for project in projects}

    def _tasks(self, ids: list[int]) -> dict[int, Task | None]:
        tasks = list(visible_tasks(self.user).filter(pk__in=ids))
        for task in tasks:
            if task.assignee_id is not None:
                self.user_ids.add(task.assignee_id)
            if task.created_by_id is not None:
                self.user_ids.add(task.created_by_id)
        return {task.pk: task for task in tasks}

    def _roles(self, ids: list[int]) -> dict[int, str | None]:
        if not getattr(self.user, "is_authenticated", False):
            return {}
        rows = Membership.objects.filter(user_id=self.user.pk, project_id__in=ids).values_list(
            "project_id", "role"
        )
        return dict(rows)

    def _members(self, ids: list[int]) -> dict[int, list[Membership]]:
        visible = set(self._visible_project_ids(ids))
        memberships = (
            Membership.objects.filter(project_id__in=visible)
            .select_related("user")
            .only("id", "project_id", "role", "joined_at", "user_id", *_user_columns("user"))
        )
        return _grouped(memberships, "project_id")

    def _visible_project_ids(self, ids: list[int]) -> list[int]:
        roles = [pk for pk in ids if self.viewer_roles.load(pk) is not None] if ids else []
        return roles

    def _comment_counts(self, ids: list[int]) -> dict[int, int]:
        rows = (
            Comment.objects.filter(task_id__in=ids)
            .values("task_id")
            .annotate(n=Count("id"))
            .values_list("task_id", "n")
            .order_by()
        )
        return dict(rows)

    def _attachments(self, ids: list[int]) -> dict[int, list[Attachment]]:
        attachments = (
            Attachment.objects.filter(task_id__in=ids)
            .select_related("uploaded_by")
            .only(*ATTACHMENT_FIELDS, *_user_columns("uploaded_by"))
            .order_by("uploaded_at", "id")
        )
        return _grouped(attachments, "task_id")

    def _comments(self, ids: list[int], offset: int, limit: int) -> dict[int, list[Comment]]:
        db = router.db_for_read(Comment)
        rows = _comment_page_rows(db, ids, offset, limit) if ids else []
        # The busiest loader (a page of comments for every task): instances are built from plain
        # rows, as `select_related(...).only(...)` would build them, minus Django's per-field
        # setattr and init signals, which were a fifth of a `tasks(first: 50)` request.
        user_model = get_user_model()
        split = len(COMMENT_FIELDS)
        comments = []
        for row in rows:
            comment = _instance(Comment, COMMENT_FIELDS, row[:split], db)
            author = None
            if comment.author_id is not None:
                author = _instance(user_model, USER_FIELDS, (row[2], *row[split:]), db)
            comment._state.fields_cache["author"] = author
            comments.append(comment)
        return _grouped(comments, "task_id")


def _comment_page_rows(db: str, task_ids: list[int], offset: int, limit: int) -> list[Any]:
    """Rows of COMMENT_FIELDS + the author's other USER_FIELDS: comments `offset`..`offset+limit`
    of each task (oldest first, by `ROW_NUMBER()`), ordered by task then position.

    The same SQL the queryset `Comment.objects.filter(task_id__in=...).annotate(position=
    Window(RowNumber(), ...)).filter(position__gt=..., position__lte=...)` runs, written out:
    compiling that queryset (Django wraps a filtered window in a subquery) took as long as
    running it, 8% of a `tasks(first: 50)` request measured in-process with cProfile
    (bench/PROFILES.md). Names come from the models' metadata and values are converted by the
    backend's own converters, as the compiler would; tests/graph/test_comment_page_rows.py
    holds the pages equal to the ORM's."""
    connection = connections[db]
    quote = connection.ops.quote_name
    user_model = get_user_model()
    fields = [_concrete(Comment, name.removesuffix("_id")) for name in COMMENT_FIELDS]
    authors = [_concrete(user_model, name) for name in USER_FIELDS[1:]]

    def column(model: type[Model], name: str) -> str:
        return quote(str(_concrete(model, name).column))

    inner = ", ".join(quote(str(field.column)) for field in fields)
    outer = ", ".join(f"c.{quote(str(field.column))}" for field in fields)
    author_columns = ", ".join(f"u.{quote(str(field.column))}" for field in authors)
    task, created = column(Comment, "task"), column(Comment, "created_at")
    placeholders = ", ".join(["%s"] * len(task_ids))
    sql = (
        f"SELECT {outer}, {author_columns} FROM (SELECT {inner}, ROW_NUMBER() OVER"  # noqa: S608
        f" (PARTITION BY {task} ORDER BY {created} ASC, {column(Comment, 'id')} ASC) AS position"
        f" FROM {quote(Comment._meta.db_table)} WHERE {task} IN ({placeholders})) c"
        f" LEFT OUTER JOIN {quote(user_model._meta.db_table)} u"
        f" ON u.{column(user_model, 'id')} = c.{column(Comment, 'author')}"
        f" WHERE c.position > %s AND c.position <= %s ORDER BY c.{task}, c.position"
    )  # names from the models' metadata; every value is a parameter
    converters = []
    for index, field in enumerate([*fields, *authors]):
        col = field.get_col(field.model._meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            converters.append((index, col, found))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*task_ids, offset, offset + limit])
        rows: list[Any] = cursor.fetchall()
    if not converters:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for index, col, functions in converters:
            value = values[index]
            for convert in functions:
                value = convert(value, col, connection)
            values[index] = value
        converted.append(values)
    return converted


def _concrete(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _instance[M: Model](
    model: type[M], attnames: tuple[str, ...], values: Sequence[Any], db: str
) -> M:
    """A model instance with these loaded fields (others deferred), as `Model.from_db` makes."""
    instance = model.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=True))
    state = ModelState()
    state.adding = False
    state.db = db
    instance._state = state
    return instance
