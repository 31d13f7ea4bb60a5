"""The one pagination helper: Relay connections over offset cursors, `first`/`last` capped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import graphene
from graphql_relay import cursor_to_offset, offset_to_cursor

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


@dataclass
class Page:
    """What a connection field returns; the connection type reads it attribute by attribute."""

    edges: list[dict[str, Any]]
    page_info: dict[str, Any]
    _count: Callable[[], int]
    _cached: list[int] = field(default_factory=list)

    def total_count(self) -> int:
        if not self._cached:
            self._cached.append(self._count())
        return self._cached[0]

    @property
    def nodes(self) -> list[Any]:
        return [edge["node"] for edge in self.edges]


def _size(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if value < 0:
        raise bad_user_input(f"`{name}` must not be negative.")
    if value > MAX_PAGE_SIZE:
        raise bad_user_input(f"`{name}` must be at most {MAX_PAGE_SIZE}.")
    return value


def _offset(name: str, cursor: str | None) -> int | None:
    if cursor is None:
        return None
    offset = cursor_to_offset(cursor) if isinstance(cursor, str) and len(cursor) < 100 else None
    if offset is None or offset < 0:
        raise bad_user_input(f"`{name}` is not a valid cursor.")
    return offset


def page_size_of(args: dict[str, Any]) -> int:
    """How many nodes a connection may return, for the cost limit."""
    first, last = args.get("first"), args.get("last")
    sizes = [v for v in (first, last) if isinstance(v, int)]
    return max(sizes) if sizes else DEFAULT_PAGE_SIZE


def paginate(
    fetch: Callable[[int, int], Sequence[Any]],
    count: Callable[[], int],
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Page:
    """`fetch(start, stop)` returns items `start..stop` (a queryset slice, one query);
    `count()` is only called when `last` without `before` or `totalCount` needs it."""
    first, last = _size("first", first), _size("last", last)
    after_offset, before_offset = _offset("after", after), _offset("before", before)
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    counted: list[int] = []

    def total() -> int:
        if not counted:
            counted.append(count())
        return counted[0]

    start = after_offset + 1 if after_offset is not None else 0
    end = before_offset  # exclusive; None means "the end of the list"
    if first is not None:
        stop = start + first if end is None else min(end, start + first)
    else:
        stop = end if end is not None else total()
    if last is not None:
        start = max(start, stop - last)
    stop = max(stop, start)

    # One extra row tells whether there is a next page without counting.
    rows = list(fetch(start, stop + 1))
    items = rows[: stop - start]
    has_next = len(rows) > len(items)
    edges = [
        {"node": node, "cursor": offset_to_cursor(start + index)}
        for index, node in enumerate(items)
    ]
    page_info = {
        "has_next_page": bool(has_next),
        "has_previous_page": start > 0,
        "start_cursor": edges[0]["cursor"] if edges else None,
        "end_cursor": edges[-1]["cursor"] if edges else None,
    }
    return Page(edges=edges, page_info=page_info, _count=total)
