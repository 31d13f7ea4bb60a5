"""What every mutation shares: the `UserError` type and the call into a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphene
from graphene.utils.trim_docstring import trim_docstring

from tasks.errors import NotFound, PermissionDenied, ValidationError

from ..errors import top_level, user_errors


class UserError(graphene.ObjectType):
    """A problem with the input; nothing was changed."""

    field = graphene.String(description="The input field (camelCase), if one is to blame.")
    code = graphene.String(required=True, description="E.g. REQUIRED, TOO_LONG, CONFLICT.")
    message = graphene.String(required=True, description="For people; may change wording.")


def user_error_list() -> graphene.NonNull:
    return graphene.NonNull(
        graphene.List(graphene.NonNull(UserError)),
        description="What was wrong with the input; empty when the mutation succeeded.",
    )


class ServiceMutation(graphene.Mutation):
    """A mutation of API.md: one `input` argument, a `...Payload` with `errors`.

    Its docstring describes the mutation (the root field); `Meta.description`, or else a
    sentence naming the mutation, describes the payload type. graphene would use one text for
    both, which reads oddly on one of them in GraphiQL's Docs pane."""

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(
        cls, name: str | None = None, description: str | None = None, **options: Any
    ) -> None:
        if description is None and name is not None:
            field = name.removesuffix("Payload")
            field = field[:1].lower() + field[1:]
            description = (
                f"What `{field}` returns: the result, or `errors` when the input was refused "
                "(then nothing changed and the other fields are null)."
            )
        super().__init_subclass_with_meta__(name=name, description=description, **options)

    @classmethod
    def Field(cls, *args: Any, **kwargs: Any) -> graphene.Field:
        kwargs.setdefault("description", trim_docstring(cls.__doc__))
        return super().Field(*args, **kwargs)


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
