"""The one mapping from errors to RFC 9457 problem details (`application/problem+json`).

Domain errors (`tasks.errors`) and DRF's own exceptions both end up here, so every REST error,
whatever raised it, has the same shape: type, title, status, detail, code, errors."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tasks import errors as domain

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:taskhub:problem:"

# REST field names differ from the service keyword names in a few places.
FIELD_NAMES = {"assignee_id": "assignee", None: "non_field_errors"}

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    410: "Gone",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
}

DRF_CODES = {
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


class ProblemError(exceptions.APIException):
    """An API error with an explicit status and stable code (412, 409, 422 and friends)."""

    def __init__(self, status_code: int, code: str, detail: str) -> None:
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.problem_code = code


def problem(
    status_code: int,
    code: str,
    detail: str,
    field_errors: Mapping[str, list[str]] | None = None,
    invalid_params: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{code}",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
        "errors": dict(field_errors or {}),
    }
    if invalid_params:
        body["invalid_params"] = invalid_params
    return body


def _flatten(detail: Any, prefix: str = "") -> list[tuple[str, str, str]]:
    """DRF's nested error details as (field, code, message) triples with dotted field names."""
    if isinstance(detail, Mapping):
        triples = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            triples.extend(_flatten(value, name))
        return triples
    if isinstance(detail, list):
        triples = []
        for index, value in enumerate(detail):
            nested = isinstance(value, Mapping | list)
            triples.extend(_flatten(value, f"{prefix}.{index}" if nested else prefix))
        return triples
    code = getattr(detail, "code", None) or "invalid"
    return [(prefix or "non_field_errors", str(code), str(detail))]


def _validation_problem(triples: list[tuple[str, str, str]]) -> dict[str, Any]:
    field_errors: dict[str, list[str]] = {}
    for field, _code, message in triples:
        field_errors.setdefault(field, []).append(message)
    params = [{"name": f, "code": c, "reason": m} for f, c, m in triples]
    detail = "; ".join(f"{f}: {m}" for f, _c, m in triples) or "The input is invalid."
    return problem(400, "invalid", detail, field_errors, params)


def _domain_problem(exc: domain.DomainError, request: Any) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, domain.NotFound):
        return 404, problem(404, "not_found", f"The {exc.what} does not exist.")
    if isinstance(exc, domain.PermissionDenied):
        return 403, problem(403, "permission_denied", exc.message)
    assert isinstance(exc, domain.ValidationError)
    if "conflict" in exc.codes:
        message = next(e.message for e in exc.errors if e.code == "conflict")
        # A stale If-Match is a failed precondition; anything else is a plain conflict.
        if request is not None and request.headers.get("If-Match"):
            return 412, problem(412, "precondition_failed", message)
        return 409, problem(409, "conflict", message)
    too_large = [e.message for e in exc.errors if e.field == "file" and e.code == "too_large"]
    if too_large:  # an upload over ATTACHMENT_MAX_BYTES, as the ASGI body limit answers it too
        return 413, problem(413, "too_large", too_large[0], {"file": too_large})
    triples = [(FIELD_NAMES.get(e.field, e.field or ""), e.code, e.message) for e in exc.errors]
    return 400, _validation_problem(triples)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    if isinstance(exc, domain.DomainError):
        status_code, body = _domain_problem(exc, request)
        return Response(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    # DRF's handler adds WWW-Authenticate (401) and Retry-After (429) headers.
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = _validation_problem(_flatten(exc.detail))
    else:
        code = getattr(exc, "problem_code", None) or _code_of(exc)
        body = problem(response.status_code, code, _message(exc.detail))
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str) and codes not in {"error", "invalid"}:
        return codes
    for cls, code in DRF_CODES.items():
        if isinstance(exc, cls):
            return code
    return str(exc.default_code)


def _message(detail: Any) -> str:
    if isinstance(detail, list | tuple):
        return "; ".join(_message(d) for d in detail)
    if isinstance(detail, Mapping):
        return "; ".join(f"{k}: {_message(v)}" for k, v in detail.items())
    return str(detail)


def problem_response(status_code: int, code: str, detail: str) -> JsonResponse:
    """A problem for plain Django responses (URL not found, unhandled errors) under /api/."""
    response = JsonResponse(problem(status_code, code, detail), status=status_code)
    response["Content-Type"] = PROBLEM_CONTENT_TYPE
    return response


def log_unhandled(request: HttpRequest, exc: BaseException) -> None:
    logger.error(
        "unhandled API error",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"path": request.path, "method": request.method},
    )
