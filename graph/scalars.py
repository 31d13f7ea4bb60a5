"""Custom scalars."""

from __future__ import annotations

from typing import Any

import graphene
from graphql import ValueNode, value_from_ast_untyped


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
