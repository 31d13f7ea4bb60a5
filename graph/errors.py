"""The one mapping from domain errors to GraphQL: payload `UserError`s for validation problems,
top-level `errors[].extensions.code` for everything else."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from tasks.errors import NotFound, PermissionDenied, ValidationError

logger = logging.getLogger("graph")

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
RATE_LIMITED = "RATE_LIMITED"
QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"

# Service field names that are not simply snake_case versions of the input's names.
_FIELD_NAMES = {"assignee_id": "assigneeId", "expected_version": "expectedVersion"}


def coded(message: str, code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def bad_user_input(message: str) -> GraphQLError:
    return coded(message, BAD_USER_INPUT)


def camel(name: str | None) -> str | None:
    if name is None:
        return None
    if name in _FIELD_NAMES:
        return _FIELD_NAMES[name]
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def user_errors(error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": camel(item.field), "code": item.code.upper(), "message": item.message}
        for item in error.errors
    ]


def top_level(error: Exception) -> GraphQLError | None:
    """The coded GraphQL error for a domain error raised outside a mutation's validation."""
    if isinstance(error, NotFound):
        return coded(f"{error.what.capitalize()} not found.", NOT_FOUND)
    if isinstance(error, PermissionDenied):
        return coded(error.message, FORBIDDEN)
    if isinstance(error, ValidationError):
        return coded(str(error), BAD_USER_INPUT)
    return None


def format_error(
    error: GraphQLError, request_id: str | None, default_code: str = INTERNAL_SERVER_ERROR
) -> dict[str, Any]:
    """The wire form of one error. Anything not raised on purpose is masked; its traceback goes
    to the log with the request id the client can quote."""
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        mapped = top_level(original)
        if mapped is None:
            logger.error(
                "unexpected error in a GraphQL resolver",
                exc_info=(type(original), original, original.__traceback__),
                extra={"request_id": request_id, "path": error.path},
            )
            mapped = coded("Internal server error.", INTERNAL_SERVER_ERROR)
            if request_id:
                mapped.extensions["requestId"] = request_id  # type: ignore[index]
        error = GraphQLError(
            mapped.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=mapped.extensions,
        )
    elif original is not None and isinstance(original, GraphQLError) and original.extensions:
        error = GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=original.extensions,
        )
    formatted = error.formatted
    extensions = formatted.setdefault("extensions", {})
    extensions.setdefault("code", default_code)
    return dict(formatted)
