"""Keyset pagination, the one implementation behind REST's cursor lists and GraphQL connections.

A list is ordered by a sort key (any expression: priority by severity, a nullable date...; nulls
always last) and then by id, both in the same direction. A cursor names a row's position in that
order, `(sort value, id)`, so a page is "the rows strictly after (or before) that position": rows
inserted or deleted elsewhere never shift it, unlike an offset.

Why our own and not DRF's `CursorPagination` or graphql-relay's array connections: DRF's cursor
orders by model fields only (not by an expression, nor nulls last) and encodes an offset for ties;
graphql-relay's cursors are offsets. Both repeat or skip rows under concurrent writes.

Cursors are opaque to clients: Django's `Signer` over a small versioned JSON payload (base64 plus an
HMAC of it under SECRET_KEY, salted for this purpose). A cursor made for another list or ordering,
edited, truncated or invented fails to decode with `InvalidCursor`, which every transport turns
into its "bad input" error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from django.core import signing
from django.db.models import Exists, F, Model, Q, QuerySet
from django.db.models.expressions import OrderBy

SORT = "keyset_sort"
_HAS_BEFORE = "keyset_has_before"
_HAS_AFTER = "keyset_has_after"
_VERSION = 1
_SALT = "tasks.keyset.cursor"
_MAX_CURSOR_LENGTH = 2000
_MAX_PK = 2**63 - 1  # the widest id a table holds; SQLite overflows beyond it

Kind = Literal["id", "datetime", "date", "int", "str"]


class InvalidCursor(ValueError):
    """A cursor that this list did not issue, or that was altered."""


@dataclass(frozen=True)
class Ordering:
    """How one list is ordered. `scope` names the list (a cursor is valid only in the list and
    ordering that issued it); `expression` is the sort key (None: by id alone) whose values are of
    `kind`; `descending` applies to the key and to the id tie-break alike. `field`: the model
    field the key is, when it is a plain field (so rows a batch loader fetched, which carry no
    annotation, still have a position)."""

    scope: str
    name: str
    descending: bool
    expression: Any = None
    kind: Kind = "id"
    field: str | None = None

    @property
    def label(self) -> str:
        return f"{self.scope}|{self.name}"


@dataclass(frozen=True)
class Position:
    """A row's place in an ordering: its sort value (None when null or ordering by id) and id."""

    value: Any
    pk: int


@dataclass(frozen=True)
class Window[T: Model]:
    """One page and whether any row of the whole list lies before its first row or after its last
    (for an empty page: before / after the cursors it was asked for)."""

    rows: list[T]
    has_previous: bool
    has_next: bool


# --- Cursors --------------------------------------------------------------------------------------


def position_of(ordering: Ordering, row: Model) -> Position:
    """The position of a row fetched through `page` (which annotates the sort value), or of a
    row that has the ordering's plain `field`."""
    if ordering.expression is None:
        return Position(None, int(row.pk))
    if ordering.field is not None and SORT not in row.__dict__:
        return Position(getattr(row, ordering.field), int(row.pk))
    return Position(getattr(row, SORT), int(row.pk))


def encode(ordering: Ordering, position: Position) -> str:
    value = position.value
    if isinstance(value, datetime | date):
        value = value.isoformat()
    payload = {"v": _VERSION, "o": ordering.label, "k": value, "i": position.pk}
    return signing.Signer(salt=_SALT, algorithm="sha256").sign_object(payload)


def decode(ordering: Ordering, cursor: object) -> Position:
    """The position a cursor names, or `InvalidCursor`."""
    if not isinstance(cursor, str) or not 0 < len(cursor) <= _MAX_CURSOR_LENGTH:
        raise InvalidCursor("not a cursor")
    try:
        payload = signing.Signer(salt=_SALT, algorithm="sha256").unsign_object(cursor)
    except (signing.BadSignature, ValueError, UnicodeError):
        raise InvalidCursor("not a cursor this server issued") from None
    if not isinstance(payload, dict) or payload.get("v") != _VERSION:
        raise InvalidCursor("unknown cursor version")
    if payload.get("o") != ordering.label:
        raise InvalidCursor("a cursor of another list or ordering")
    return Position(_value(ordering.kind, payload.get("k")), _pk(payload.get("i")))


def _pk(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_PK:
        return value
    raise InvalidCursor("bad id")


def _value(kind: Kind, value: object) -> Any:
    if value is None:
        return None
    try:
        if kind == "datetime" and isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                return parsed
        elif kind == "date" and isinstance(value, str):
            return date.fromisoformat(value)
        elif kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            if abs(value) <= _MAX_PK:
                return value
        elif kind == "str" and isinstance(value, str) and "\x00" not in value:
            return value
    except ValueError:
        pass
    raise InvalidCursor(f"bad {kind} value")


# --- Conditions -----------------------------------------------------------------------------------


def _beyond(ordering: Ordering, at: Position, *, forward: bool, inclusive: bool = False) -> Q:
    """Rows after `at` in the ordering (`forward`) or before it; `inclusive` adds `at` itself.
    Nulls sort last in either direction, then by id."""
    towards_end = forward != ordering.descending  # moving to larger values?
    op = "gt" if towards_end else "lt"
    id_cond = Q(**{f"id__{op}{'e' if inclusive else ''}": at.pk})
    if ordering.expression is None:
        return id_cond
    null = Q(**{f"{SORT}__isnull": True})
    if at.value is None:  # in the null block, the last block of the list
        return (null & id_cond) if forward else (~null | (null & id_cond))
    strictly = Q(**{f"{SORT}__{op}": at.value}) | (Q(**{SORT: at.value}) & id_cond)
    return (strictly | null) if forward else strictly


def _sorted(queryset: QuerySet[Any], ordering: Ordering, *, reverse: bool) -> QuerySet[Any]:
    descending = ordering.descending != reverse
    id_order = F("id").desc() if descending else F("id").asc()
    if ordering.expression is None:
        return queryset.order_by(id_order)
    # Nulls stay last in the list's own order, so they come first when reading it backwards.
    nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    key = OrderBy(F(SORT), descending=descending, **nulls)
    return queryset.order_by(key, id_order)


# --- Pages ----------------------------------------------------------------------------------------


def page[T: Model](
    queryset: QuerySet[T],
    ordering: Ordering,
    *,
    first: int | None = None,
    after: Position | None = None,
    last: int | None = None,
    before: Position | None = None,
) -> Window[T]:
    """The rows strictly between `after` and `before`: the first `first` of them, then the last
    `last` of those (Relay's algorithm); at least one of `first` and `last` is given.

    One query, whatever the arguments: the row after the page tells whether more follow, and
    whether rows lie beyond the cursors is asked inside the same statement (`EXISTS`). Only a
    page with no rows at all, which has nothing to carry those answers, asks separately."""
    if first is None and last is None:
        raise ValueError("first or last is required")
    keyed = queryset
    if ordering.expression is not None:
        keyed = queryset.annotate(**{SORT: ordering.expression})
    window = keyed
    flags: dict[str, Exists] = {}
    outside_before = outside_after = None
    if after is not None:
        window = window.filter(_beyond(ordering, after, forward=True))
        outside_before = keyed.filter(_beyond(ordering, after, forward=False, inclusive=True))
        flags[_HAS_BEFORE] = Exists(outside_before)
    if before is not None:
        window = window.filter(_beyond(ordering, before, forward=False))
        outside_after = keyed.filter(_beyond(ordering, before, forward=True, inclusive=True))
        flags[_HAS_AFTER] = Exists(outside_after)
    forward = first is not None
    size = first if first is not None else last
    assert size is not None
    fetched = list(_sorted(window.annotate(**flags), ordering, reverse=not forward)[: size + 1])
    more = len(fetched) > size
    rows = fetched[:size] if forward else fetched[:size][::-1]

    def beyond(flag: str, outside: QuerySet[Any] | None) -> bool:
        if outside is None:
            return False
        if fetched:
            return bool(getattr(fetched[0], flag))
        return outside.exists()

    has_previous = beyond(_HAS_BEFORE, outside_before)
    has_next = beyond(_HAS_AFTER, outside_after)
    if forward:
        has_next = has_next or more
        if last is not None and len(rows) > last:
            rows, has_previous = rows[len(rows) - last :], True
    else:
        has_previous = has_previous or more
    return Window(rows, has_previous, has_next)
