"""What every mutation shares: the `UserError` type and the call into a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphene

from tasks.errors import NotFound, PermissionDenied, ValidationError

from ..errors import top_level, user_errors


class UserError(graphene.ObjectType):
    """A problem with the input; nothing was changed."""

    field = graphene.String(description="The input field (camelCase), if one is to blame.")
    code = graphene.String(required=True, description="E.g. REQUIRED, TOO_LONG, CONFLICT.")
    message = graphene.String(required=True)


def user_error_list() -> graphene.NonNull:
    return graphene.NonNull(graphene.List(graphene.NonNull(UserError)))


def call_service(function: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Runs the service; validation problems become the payload's `errors`, a missing or
    forbidden object a top-level error (NOT_FOUND / FORBIDDEN)."""
    try:
        result = function()
    except ValidationError as error:
        return {"errors": user_errors(error)}
    except (NotFound, PermissionDenied) as error:
        raise top_level(error) from error  # type: ignore[misc]
    return {**result, "errors": []}
