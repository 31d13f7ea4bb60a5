"""The one pagination helper: Relay connections over keyset cursors (`tasks.keyset`, shared with
REST), `first`/`last` capped.

graphene's `relay.ConnectionField` slices a list by offset (graphql-relay's `arrayconnection:N`
cursors), which repeats or skips nodes while others write; so connection fields are plain fields
taking `connection_args()` and returning a `Page` built here from one keyset query."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import graphene
from django.db.models import Model, QuerySet

from tasks import keyset, orderings
from tasks.models import Comment
from tasks.selectors import MAX_ID

from .dataloaders import Loaders
from .errors import bad_user_input

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25


def connection_args(*, backwards: bool = True) -> dict[str, Any]:
    args: dict[str, Any] = {
        "first": graphene.Int(description=f"At most {MAX_PAGE_SIZE}."),
        "after": graphene.String(),
    }
    if backwards:
        args["last"] = graphene.Int(description=f"At most {MAX_PAGE_SIZE}.")
        args["before"] = graphene.String()
    return args


class CountableConnection(graphene.relay.Connection):
    class Meta:
        abstract = True

    total_count = graphene.Int(required=True)

    @staticmethod
    def resolve_total_count(root: Page, info: Any) -> int:
        return root.total_count()


class Edge:
    """One edge; its cursor is only signed if the query selects it."""

    def __init__(self, node: Any, encode: Callable[[], str]) -> None:
        self.node = node
        self._encode = encode

    @cached_property
    def cursor(self) -> str:
        return self._encode()


class PageInfo:
    """Relay's `pageInfo`; the edge cursors are only signed if the query selects them."""

    def __init__(self, edges: list[Edge], window: keyset.Window[Any]) -> None:
        self._edges = edges
        self.has_next_page = window.has_next
        self.has_previous_page = window.has_previous

    @property
    def start_cursor(self) -> str | None:
        return self._edges[0].cursor if self._edges else None

    @property
    def end_cursor(self) -> str | None:
        return self._edges[-1].cursor if self._edges else None


@dataclass
class Page:
    """What a connection field returns; the connection type reads it attribute by attribute."""

    edges: list[Edge]
    page_info: PageInfo
    _count: Callable[[], int]
    _cached: list[int] = field(default_factory=list)

    def total_count(self) -> int:
        if not self._cached:
            self._cached.append(self._count())
        return self._cached[0]

    @property
    def nodes(self) -> list[Any]:
        return [edge.node for edge in self.edges]


def _size(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if value < 0:
        raise bad_user_input(f"`{name}` must not be negative.")
    if value > MAX_PAGE_SIZE:
        raise bad_user_input(f"`{name}` must be at most {MAX_PAGE_SIZE}.")
    return value


def page_size_of(args: dict[str, Any]) -> int:
    """How many nodes a connection may return, for the cost limit."""
    first, last = args.get("first"), args.get("last")
    sizes = [v for v in (first, last) if isinstance(v, int)]
    return max(sizes) if sizes else DEFAULT_PAGE_SIZE


class Cursors:
    """Signed `tasks.keyset` cursors for one ordering."""

    def __init__(self, ordering: keyset.Ordering) -> None:
        self.ordering = ordering

    def decode(self, name: str, cursor: str | None) -> keyset.Position | None:
        if cursor is None:
            return None
        try:
            return keyset.decode(self.ordering, cursor)
        except keyset.InvalidCursor:
            raise bad_user_input(f"`{name}` is not a valid cursor for this list.") from None

    def encoder(self, row: Model) -> Callable[[], str]:
        return lambda: keyset.encode(self.ordering, keyset.position_of(self.ordering, row))


class IdCursors(Cursors):
    """The row id itself as the cursor, for a list ordered by id whose contract publishes ids as
    cursors (the activity log: `Event.id` is "usable as a cursor")."""

    def decode(self, name: str, cursor: str | None) -> keyset.Position | None:
        if cursor is None:
            return None
        if not (len(cursor) < 20 and cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_ID:
            raise bad_user_input(f"`{name}` must be an event id.")
        return keyset.Position(None, int(cursor))

    def encoder(self, row: Model) -> Callable[[], str]:
        return lambda: str(row.pk)


def paginate[T: Model](
    queryset: QuerySet[T],
    cursors: keyset.Ordering | Cursors,
    count: Callable[[], int],
    *,
    nodes: Callable[[list[T]], Sequence[Any]] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Page:
    """One page of `queryset` in the ordering (one query; see `tasks.keyset.page`). `count()` is
    only called when `totalCount` is selected. `nodes(rows)` turns the page's rows into the edges'
    nodes (and is where a resolver announces them to the batch loaders)."""
    if isinstance(cursors, keyset.Ordering):
        cursors = Cursors(cursors)
    first, last = _size("first", first), _size("last", last)
    after_at, before_at = cursors.decode("after", after), cursors.decode("before", before)
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    window = keyset.page(
        queryset, cursors.ordering, first=first, after=after_at, last=last, before=before_at
    )
    return page_of(window, cursors, count, nodes)


def page_of[T: Model](
    window: keyset.Window[T],
    cursors: Cursors,
    count: Callable[[], int],
    nodes: Callable[[list[T]], Sequence[Any]] | None = None,
) -> Page:
    """A `Page` of rows already fetched (e.g. by a batch loader) in the cursors' ordering."""
    values = nodes(window.rows) if nodes is not None else window.rows
    edges = [
        Edge(node, cursors.encoder(row)) for row, node in zip(window.rows, values, strict=True)
    ]
    return Page(edges=edges, page_info=PageInfo(edges, window), _count=count)


def paginate_comments(
    task_id: int, batch: Loaders, *, first: int | None = None, after: str | None = None
) -> Page:
    """`Task.comments`. The first page of every task in a response comes from one batched query
    (`Loaders.comment_page`); a cursor belongs to one task's comments, so a task paged `after`
    one is read on its own."""
    cursors = Cursors(orderings.comments(f"Task:{task_id}.comments"))

    def count() -> int:
        return batch.comment_counts.load(task_id)

    if after is not None:
        queryset = Comment.objects.filter(task_id=task_id).select_related("author")
        return paginate(queryset, cursors, count, first=first, after=after)
    size = _size("first", first)
    size = DEFAULT_PAGE_SIZE if size is None else size
    rows = batch.comment_page(task_id, 0, size + 1)
    return page_of(keyset.Window(rows[:size], False, len(rows) > size), cursors, count)
