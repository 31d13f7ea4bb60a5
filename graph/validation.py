"""Validation rules that protect the server: depth, cost (nodes multiplied by `first`/`last`),
aliases, introspection. Limits come from settings (GRAPHQL_MAX_DEPTH, GRAPHQL_MAX_COST,
GRAPHQL_MAX_ALIASES, GRAPHQL_INTROSPECTION). Introspection fields are not counted: they are
allowed or refused as a whole."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
    specified_rules,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from .errors import QUERY_TOO_COMPLEX, QUERY_TOO_DEEP
from .pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")
# Connection fields that return a default page when asked without `first`/`last`.
CONNECTION_FIELDS = frozenset({"projects", "tasks", "comments", "activity"})


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def _page_size(field: FieldNode, variables: Mapping[str, Any]) -> int | None:
    """The page size a field asks for, or None when it takes no page arguments."""
    sizes: list[int] = []
    for argument in field.arguments or ():
        if argument.name.value not in PAGE_ARGUMENTS:
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            sizes.append(int(value.value))
        elif isinstance(value, VariableNode):
            raw = variables.get(value.name.value)
            sizes.append(raw if isinstance(raw, int) else MAX_PAGE_SIZE)
        else:
            sizes.append(MAX_PAGE_SIZE)
    if not sizes:
        return None
    return max(1, min(max(sizes), MAX_PAGE_SIZE))


class _Walker:
    """Depth, cost and alias count of an operation, fragments expanded. Cost is linear in the
    multiplier, so each fragment is measured once (no blow-up from fragments spread many times);
    a fragment cycle counts as empty (the standard rules report it)."""

    def __init__(self, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self.fragments = _fragments(document)
        self.variables = variables
        self.measured: dict[str, tuple[int, int, int]] = {}

    def walk(self, selection_set: SelectionSetNode | None) -> tuple[int, int, int]:
        """(depth, cost for a multiplier of 1, aliases) of a selection set."""
        depth = cost = aliases = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                if selection.alias is not None:
                    aliases += 1
                size = _page_size(selection, self.variables)
                if size is None and selection.name.value in CONNECTION_FIELDS:
                    size = DEFAULT_PAGE_SIZE
                child_depth, child_cost, child_aliases = self.walk(selection.selection_set)
                depth = max(depth, 1 + child_depth)
                cost += 1 + (size or 1) * child_cost
                aliases += child_aliases
                continue
            if isinstance(selection, FragmentSpreadNode):
                child = self._fragment(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                child = self.walk(selection.selection_set)
            else:
                continue
            depth = max(depth, child[0])
            cost += child[1]
            aliases += child[2]
        return depth, cost, aliases

    def _fragment(self, name: str) -> tuple[int, int, int]:
        if name in self.measured:
            return self.measured[name]
        fragment = self.fragments.get(name)
        self.measured[name] = (0, 0, 0)  # a cycle reaching back here counts as nothing
        if fragment is not None:
            self.measured[name] = self.walk(fragment.selection_set)
        return self.measured[name]


def limits_rule(variables: Mapping[str, Any] | None) -> type[ASTValidationRule]:
    max_depth = settings.GRAPHQL_MAX_DEPTH
    max_cost = settings.GRAPHQL_MAX_COST
    max_aliases = settings.GRAPHQL_MAX_ALIASES
    bound = variables or {}

    class QueryLimitsRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.walker = _Walker(context.document, bound)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> Any:
            depth, cost, aliases = self.walker.walk(node.selection_set)
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"The query is {depth} levels deep; the limit is {max_depth}.",
                        node,
                        extensions={"code": QUERY_TOO_DEEP},
                    )
                )
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"The query may return {cost} nodes; the limit is {max_cost}.",
                        node,
                        extensions={"code": QUERY_TOO_COMPLEX},
                    )
                )
            if aliases > max_aliases:
                self.report_error(
                    GraphQLError(
                        f"The query uses {aliases} aliases; the limit is {max_aliases}.",
                        node,
                        extensions={"code": QUERY_TOO_COMPLEX},
                    )
                )
            return self.SKIP

    return QueryLimitsRule


def introspection_allowed() -> bool:
    return bool(settings.GRAPHQL_INTROSPECTION)


def rules(variables: Mapping[str, Any] | None) -> list[type[ASTValidationRule]]:
    extra: list[type[ASTValidationRule]] = [limits_rule(variables)]
    if not introspection_allowed():
        extra.append(NoSchemaIntrospectionCustomRule)
    return [*specified_rules, *extra]
