"""Custom scalars."""

from __future__ import annotations

from typing import Any

import graphene
from django.core.files.uploadedfile import UploadedFile
from graphql import GraphQLError, ValueNode, value_from_ast_untyped

from .multipart import OVERSIZED_UPLOAD


class JSON(graphene.Scalar):
    """An arbitrary JSON value (the `data` of an event is always a JSON object)."""

    @staticmethod
    def serialize(value: Any) -> Any:
        return value

    @staticmethod
    def parse_value(value: Any) -> Any:
        return value

    @staticmethod
    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        return value_from_ast_untyped(node, _variables)


class Upload(graphene.Scalar):
    """A file sent as a part of a multipart request (GraphQL multipart request spec); its
    variable is null in `operations` and named in `map`. Input only."""

    @staticmethod
    def serialize(value: Any) -> Any:
        raise GraphQLError("`Upload` is an input type.")

    @staticmethod
    def parse_value(value: Any) -> Any:
        if isinstance(value, UploadedFile) or value is OVERSIZED_UPLOAD:
            return value
        raise GraphQLError(
            "Send the file as a multipart request part (GraphQL multipart request spec)."
        )

    @staticmethod
    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        raise GraphQLError("An `Upload` is passed in a variable, never written in the query.")
