"""The two pagination styles of the REST API (API.md): page numbers for short lists, and a keyset
cursor for tasks and activity.

DRF's CursorPagination can only order by model fields, but tasks order by expressions (priority by
severity, nulls last), so the cursor is our own: it encodes the (sort value, id) position of the
edge row and filters with the matching keyset condition, in either direction."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.paginator import InvalidPage
from django.db.models import Q, QuerySet
from rest_framework import exceptions
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
PAGE_SIZE_DESCRIPTION = f"Results per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE})."


def page_size_from(request: Request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise exceptions.ValidationError({"page_size": ["A whole number is required."]}) from None
    if size < 1:
        raise exceptions.ValidationError({"page_size": ["Must be at least 1."]})
    return min(size, MAX_PAGE_SIZE)


class PagePagination(PageNumberPagination):
    """`?page=&page_size=` -> `{count, next, previous, results}`."""

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_size_query_description = PAGE_SIZE_DESCRIPTION

    def get_page_size(self, request: Request) -> int:
        return page_size_from(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        page_params: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for param in page_params:
            param["schema"] = {"type": "integer", "minimum": 1}
            if param["name"] == "page":
                param["schema"]["maximum"] = 999_999_999
        return page_params

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Any] | None:
        raw = request.query_params.get(self.page_query_param, "1")
        if not raw.isdigit() or len(raw) > 9:
            raise exceptions.ValidationError({"page": ["A page number is required."]})
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound:
            raise exceptions.NotFound("That page contains no results.") from None
        except InvalidPage:  # pragma: no cover - DRF converts it, kept as a safety net
            raise exceptions.NotFound("That page contains no results.") from None


# --- Keyset cursors -------------------------------------------------------------------------------

SORT_ANNOTATION = "keyset_sort_value"


@dataclass(frozen=True)
class Keyset:
    """How a queryset is ordered: by `expression` (nulls last), then by id, both `descending` or
    both ascending. `name` identifies the ordering inside the cursor; `kind` decodes values."""

    name: str
    expression: Any
    descending: bool
    kind: str  # "datetime" | "date" | "int" | "str"


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decode_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > 2**62:
            raise ValueError("out of range")
        return value
    if kind == "str" and isinstance(value, str) and "\x00" not in value:
        return value
    raise ValueError(kind)


def _after(keyset: Keyset, value: Any, pk: int) -> Q:
    """Rows strictly after (value, pk) in the keyset's order (nulls last)."""
    key = SORT_ANNOTATION
    beyond = "lt" if keyset.descending else "gt"
    if value is None:
        return Q(**{f"{key}__isnull": True, f"id__{beyond}": pk})
    return (
        Q(**{f"{key}__{beyond}": value})
        | Q(**{key: value, f"id__{beyond}": pk})
        | Q(**{f"{key}__isnull": True})
    )


def _before(keyset: Keyset, value: Any, pk: int) -> Q:
    """Rows strictly before (value, pk) in the keyset's order (nulls last)."""
    key = SORT_ANNOTATION
    behind = "gt" if keyset.descending else "lt"
    if value is None:
        return Q(**{f"{key}__isnull": False}) | Q(**{f"{key}__isnull": True, f"id__{behind}": pk})
    return Q(**{f"{key}__{behind}": value}) | Q(**{key: value, f"id__{behind}": pk})


class KeysetPagination(BasePagination):
    """`?cursor=...&page_size=...` -> `{next, previous, results}`. The view supplies the ordering
    through `get_keyset(request)`; the queryset must already be ordered that way."""

    cursor_query_param = "cursor"

    def __init__(self) -> None:
        self.next_url: str | None = None
        self.previous_url: str | None = None
        self.base_url = ""

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        assert view is not None
        keyset: Keyset = view.get_keyset(request)
        size = page_size_from(request)
        self.base_url = request.build_absolute_uri()
        position = self._decode(request.query_params.get(self.cursor_query_param), keyset)
        qs: QuerySet[Any] = queryset.annotate(**{SORT_ANNOTATION: keyset.expression})
        if position is None:
            rows = list(qs[: size + 1])
            more_after, more_before = len(rows) > size, False
            rows = rows[:size]
        else:
            value, pk, backwards = position
            if backwards:
                rows = list(qs.filter(_before(keyset, value, pk)).reverse()[: size + 1])
                more_before, more_after = len(rows) > size, True
                rows = list(reversed(rows[:size]))
            else:
                rows = list(qs.filter(_after(keyset, value, pk))[: size + 1])
                more_after, more_before = len(rows) > size, True
                rows = rows[:size]
        self.next_url = self._url(keyset, rows[-1], False) if rows and more_after else None
        self.previous_url = self._url(keyset, rows[0], True) if rows and more_before else None
        if not rows and position is not None:
            # Walked off an end: offer the way back from where the cursor pointed.
            value, pk, backwards = position
            token = self._token(keyset, value, pk, not backwards)
            url = replace_query_param(self.base_url, self.cursor_query_param, token)
            if backwards:
                self.next_url = url
            else:
                self.previous_url = url
        return rows

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.next_url, "previous": self.previous_url, "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        url = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": url, "previous": url, "results": schema},
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The pagination cursor value (from `next` or `previous`).",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": PAGE_SIZE_DESCRIPTION,
                "schema": {"type": "integer", "minimum": 1},
            },
        ]

    # --- cursor tokens ---

    def _url(self, keyset: Keyset, row: Any, backwards: bool) -> str:
        token = self._token(keyset, getattr(row, SORT_ANNOTATION), row.pk, backwards)
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    @staticmethod
    def _token(keyset: Keyset, value: Any, pk: int, backwards: bool) -> str:
        payload = {"o": keyset.name, "v": _encode_value(value), "i": pk, "b": backwards}
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode(token: str | None, keyset: Keyset) -> tuple[Any, int, bool] | None:
        if token is None or token == "":
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            payload = json.loads(raw)
            if not isinstance(payload, dict) or payload.get("o") != keyset.name:
                raise ValueError("cursor of another ordering")
            pk = payload["i"]
            backwards = payload["b"]
            if not isinstance(pk, int) or isinstance(pk, bool) or not 0 <= pk < 2**62:
                raise ValueError("bad id")
            if not isinstance(backwards, bool):
                raise ValueError("bad direction")
            return _decode_value(keyset.kind, payload["v"]), pk, backwards
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            raise exceptions.ValidationError({"cursor": ["Invalid cursor."]}) from None


__all__: Sequence[str] = ["Keyset", "KeysetPagination", "PagePagination"]
