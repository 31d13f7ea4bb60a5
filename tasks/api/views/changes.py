"""Delta sync over REST, v2 only: `projects/{id}/changes/?since=` and the head cursor a client
takes before fetching the state it keeps (`projects/{id}/changes/head/`). Thin over
`tasks.changes`, which documents the algorithm and the cursors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from tasks import changes, selectors
from tasks.api.change_serializers import ChangesCursorSerializer, ChangesSerializer
from tasks.api.exceptions import ProblemError
from tasks.api.pagination import page_size_from
from tasks.api.versioning import V2OnlyVersioning

from .base import ApiView

SINCE = OpenApiParameter(
    "since",
    str,
    OpenApiParameter.QUERY,
    description="A `cursor` from an earlier answer or from `changes/head/`: only what changed "
    "after it. Omitted: from the beginning of the project's log (410 once events were pruned).",
)
PAGE_SIZE = OpenApiParameter(
    "page_size",
    {"type": "integer", "minimum": 1},
    OpenApiParameter.QUERY,
    description=f"At most this many objects (default {changes.DEFAULT_PAGE_SIZE}; more than "
    f"{changes.MAX_PAGE_SIZE} counts as {changes.MAX_PAGE_SIZE}).",
)


class ChangesView(ApiView):
    """What changed in a project since a cursor: the current state of every task, comment,
    attachment and membership (and the project when updated), each once, tombstones for what
    is gone, and the next cursor. 400 for a cursor of another project or not issued here; 410
    (`cursor_too_old`) once the log was pruned past it: fetch the state again, taking a new head
    cursor first."""

    output_serializer = ChangesSerializer
    pagination_class = None
    versioning_class = V2OnlyVersioning
    error_codes = (410,)

    @extend_schema(parameters=[SINCE, PAGE_SIZE])
    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        since = request.query_params.get("since")
        size = page_size_from(request, default=changes.DEFAULT_PAGE_SIZE)
        try:
            result = changes.changes(request.user, pk, since=since, first=size)
        except changes.InvalidChangesCursor:
            raise exceptions.ValidationError(
                {"since": ["Not a changes cursor of this project."]}
            ) from None
        except changes.CursorTooOld as error:
            raise ProblemError(410, "cursor_too_old", str(error)) from None
        url = request.build_absolute_uri()
        body = {
            "project": result.project,
            "tasks": result.tasks,
            "comments": result.comments,
            "attachments": result.attachments,
            "members": result.members,
            "deleted": result.deleted,
            "cursor": result.cursor,
            "has_more": result.has_more,
            "next": replace_query_param(url, "since", result.cursor) if result.has_more else None,
        }
        context = dict(self.get_serializer_context())
        if result.project is not None:
            context["roles"] = {result.project.pk: selectors.role_of(request.user, pk)}
        return Response(self.get_serializer(body, context=context).data)


class ChangesHeadView(ApiView):
    """The head cursor of a project's change log: take it before fetching the state you keep,
    then `changes/?since=` it to catch up later without missing anything."""

    output_serializer = ChangesCursorSerializer
    pagination_class = None
    versioning_class = V2OnlyVersioning

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return Response({"cursor": changes.head_cursor(request.user, pk)})
