"""Request-size errors a client causes, answered in the shape of the transport it spoke to.

Django raises `RequestDataTooBig` (a body over DATA_UPLOAD_MAX_MEMORY_SIZE) and
`TooManyFieldsSent` / `TooManyFilesSent` (more than DATA_UPLOAD_MAX_NUMBER_FIELDS/FILES) when a
view first reads the body or the query string. Left alone they become a 500 under DRF, Django's
HTML 400 elsewhere, and a traceback page in DEBUG. This middleware turns them into 413 and 400:
a GraphQL error on `/graphql`, an OAuth error under `/o/`, RFC 9457 problem details anywhere else.

The query string is parsed and a declared Content-Length checked here, before any middleware or
view reads them, because what a middleware raises (ApiProblemMiddleware reads `?version=`, CSRF
reads form bodies) never reaches `process_exception`.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, QueryDict

from project.middleware import ResponseMiddleware

GRAPHQL_PATH = "/graphql"
OAUTH_PREFIX = "/o/"


def classify(exception: BaseException) -> tuple[int, str, str] | None:
    """(status, problem code, message) for a client-caused size error, else None."""
    if isinstance(exception, RequestDataTooBig):
        return 413, "too_large", "The request body is too large."
    if isinstance(exception, TooManyFieldsSent):
        return 400, "too_many_fields", "The request has too many parameters or form fields."
    if isinstance(exception, TooManyFilesSent):
        return 400, "too_many_files", "The request has too many files."
    return None


def client_error_response(
    request: HttpRequest, status: int, code: str, detail: str
) -> HttpResponse:
    path = request.path_info
    if path.rstrip("/") == GRAPHQL_PATH:
        extensions: dict[str, Any] = {"code": "BAD_USER_INPUT"}
        request_id = getattr(request, "request_id", None)
        if request_id:
            extensions["requestId"] = request_id
        body: dict[str, Any] = {"errors": [{"message": detail, "extensions": extensions}]}
        content_type = "application/json"
    elif path.startswith(OAUTH_PREFIX):
        body = {"error": "invalid_request", "error_description": detail}
        content_type = "application/json"
    else:
        body = {
            "type": f"urn:taskhub:problem:{code}",
            "title": "Content too large" if status == 413 else "Bad request",
            "status": status,
            "detail": detail,
            "code": code,
            "errors": {},
        }
        content_type = "application/problem+json"
    response = HttpResponse(orjson.dumps(body), status=status, content_type=content_type)
    if status == 413:
        response["Connection"] = "close"
    return response


def _declares_too_large_a_body(request: HttpRequest) -> bool:
    """Django's own rule for `request.body`: the declared Content-Length against
    DATA_UPLOAD_MAX_MEMORY_SIZE. Multipart bodies are exempt (their files stream to upload
    handlers; only their plain fields count, which the parser checks as it goes)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or request.content_type == "multipart/form-data":
        return False
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return False


class ClientErrorMiddleware(ResponseMiddleware):
    """Async-capable (every middleware is, see tests/perf): the checks read only what the ASGI
    handler already holds, so they never block."""

    def before(self, request: HttpRequest) -> HttpResponse | None:
        if _declares_too_large_a_body(request):
            # What `request.body` would raise, answered before CSRF's process_view reads a form
            # body (there it would become Django's HTML 400, never reaching process_exception).
            return client_error_response(
                request, 413, "too_large", "The request body is too large."
            )
        try:
            request.GET  # noqa: B018 - parses (and caches) the query string now
        except (TooManyFieldsSent, TooManyFilesSent) as exc:
            classified = classify(exc)
            assert classified is not None
            # Outer middleware (ApiProblemMiddleware's `?version=`) reads it again afterwards.
            request.GET = QueryDict()
            return client_error_response(request, *classified)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        classified = classify(exception)
        if classified is None:
            return None
        return client_error_response(request, *classified)
