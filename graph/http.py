"""GraphQL-over-HTTP plumbing: request ids, media types, reading the request, writing responses."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse

from . import multipart
from .errors import BAD_USER_INPUT, coded

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MAX_BODY_BYTES = 1_000_000


def request_id(request: HttpRequest) -> str:
    """The request's id: a sane incoming X-Request-ID, else a new one (kept on the request so
    logging and a later ops middleware see the same value)."""
    existing = getattr(request, "request_id", None) or request.META.get("HTTP_X_REQUEST_ID", "")
    if not isinstance(existing, str) or not _REQUEST_ID.match(existing):
        existing = uuid.uuid4().hex
    request.request_id = existing  # type: ignore[attr-defined]
    return existing


def negotiate(accept: str) -> str | None:
    """The response media type for an Accept header; None when we can offer none of it."""
    if not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for part in accept.split(","):
        media, *params = (item.strip() for item in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if media == GRAPHQL_RESPONSE:
            candidate = (quality, 1, GRAPHQL_RESPONSE)
        elif media in {JSON, "application/*", "*/*"}:
            candidate = (quality, 0, JSON)
        else:
            continue
        if quality > 0 and (best is None or candidate > best):
            best = candidate
    return best[2] if best else None


def wants_html(request: HttpRequest) -> bool:
    accept = request.META.get("HTTP_ACCEPT", "")
    return "text/html" in accept and "query" not in request.GET


class RequestError(Exception):
    """A request that cannot be executed: answered with `status` and one coded error."""

    def __init__(
        self,
        message: str,
        code: str = BAD_USER_INPUT,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.error = coded(message, code)
        self.status = status
        self.headers = headers or {}


@dataclass
class Params:
    query: object
    variables: dict[str, Any] = field(default_factory=dict)
    operation_name: str | None = None
    extensions: object = None
    multipart: bool = False  # files in `variables`; mutations only


def _json_param(value: str | None, name: str) -> object:
    if value is None or value == "":
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise RequestError(f"`{name}` is not valid JSON.") from None


def read_params(request: HttpRequest) -> Params:
    if request.method == "GET":
        data: dict[str, Any] = {
            "query": request.GET.get("query"),
            "variables": _json_param(request.GET.get("variables"), "variables"),
            "operationName": request.GET.get("operationName") or None,
            "extensions": _json_param(request.GET.get("extensions"), "extensions"),
        }
    elif multipart.is_multipart(request):
        try:
            data = multipart.read_operations(request)
        except multipart.InvalidMultipart as error:
            raise RequestError(str(error), status=error.status) from None
    else:
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type != JSON:
            raise RequestError(
                "POST a JSON body (Content-Type: application/json), or multipart/form-data "
                "for file uploads.",
                status=415,
            )
        if len(request.body) > MAX_BODY_BYTES:
            raise RequestError("The request body is too large.", status=413)
        try:
            loaded = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            raise RequestError("The body is not valid JSON.") from None
        if isinstance(loaded, list):
            raise RequestError("Batched requests (a JSON array) are not supported.")
        if not isinstance(loaded, dict):
            raise RequestError("The body must be a JSON object.")
        data = loaded
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError("`variables` must be a JSON object.")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError("`operationName` must be a string.")
    return Params(
        query=data.get("query"),
        variables=variables or {},
        operation_name=operation_name,
        extensions=data.get("extensions"),
        multipart=multipart.is_multipart(request),
    )


def respond(
    body: dict[str, Any], *, status: int, media: str, headers: dict[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(
        orjson.dumps(body), status=status, content_type=f"{media}; charset=utf-8"
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response
