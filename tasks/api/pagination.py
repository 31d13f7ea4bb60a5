"""The two pagination styles of the REST API (API.md): page numbers for short lists, and a keyset
cursor for tasks and activity.

DRF's CursorPagination can only order by model fields, but tasks order by expressions (priority by
severity, nulls last), so the cursor pagination runs on `tasks.keyset`, shared with GraphQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.core.paginator import InvalidPage
from rest_framework import exceptions
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from tasks import keyset

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
PAGE_SIZE_DESCRIPTION = f"Results per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE})."


def page_size_from(request: Request, *, default: int = DEFAULT_PAGE_SIZE) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return default
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


def _directed(ordering: keyset.Ordering, backwards: bool) -> keyset.Ordering:
    """A REST cursor is a `tasks.keyset` cursor of the edge row, issued for the list, its ordering
    and the way to walk from the row (so the direction cannot be edited either)."""
    return replace(ordering, scope=f"{ordering.scope}{'<' if backwards else '>'}")


class KeysetPagination(BasePagination):
    """`?cursor=...&page_size=...` -> `{next, previous, results}`. The view supplies the ordering
    through `get_keyset(request)` (a `tasks.keyset.Ordering`)."""

    cursor_query_param = "cursor"

    def __init__(self) -> None:
        self.next_url: str | None = None
        self.previous_url: str | None = None
        self.base_url = ""

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        assert view is not None
        ordering: keyset.Ordering = view.get_keyset(request)
        size = page_size_from(request)
        self.base_url = request.build_absolute_uri()
        cursor = self._decode(request.query_params.get(self.cursor_query_param), ordering)
        if cursor is None:
            window = keyset.page(queryset, ordering, first=size)
        elif cursor[1]:
            window = keyset.page(queryset, ordering, last=size, before=cursor[0])
        else:
            window = keyset.page(queryset, ordering, first=size, after=cursor[0])
        rows = window.rows
        if rows:
            self.next_url = self._url(ordering, rows[-1], False) if window.has_next else None
            self.previous_url = self._url(ordering, rows[0], True) if window.has_previous else None
        elif cursor is not None:
            # Walked off an end: offer the way back from where the cursor pointed.
            position, backwards = cursor
            url = self._link(ordering, position, not backwards)
            self.next_url = url if backwards and window.has_next else None
            self.previous_url = url if not backwards and window.has_previous else None
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

    def _url(self, ordering: keyset.Ordering, row: Any, backwards: bool) -> str:
        return self._link(ordering, keyset.position_of(ordering, row), backwards)

    def _link(self, ordering: keyset.Ordering, position: keyset.Position, backwards: bool) -> str:
        token = keyset.encode(_directed(ordering, backwards), position)
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    @staticmethod
    def _decode(
        token: str | None, ordering: keyset.Ordering
    ) -> tuple[keyset.Position, bool] | None:
        if token is None or token == "":
            return None
        for backwards in (False, True):
            try:
                return keyset.decode(_directed(ordering, backwards), token), backwards
            except keyset.InvalidCursor:
                continue
        raise exceptions.ValidationError({"cursor": ["Invalid cursor."]})


__all__: Sequence[str] = ["KeysetPagination", "PagePagination"]
