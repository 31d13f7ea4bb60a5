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


def _limit_errors(
    node: OperationDefinitionNode, walker: _Walker, max_depth: int, max_cost: int, max_aliases: int
) -> list[GraphQLError]:
    depth, cost, aliases = walker.walk(node.selection_set)
    errors = []
    if depth > max_depth:
        errors.append(
            GraphQLError(
                f"The query is {depth} levels deep; the limit is {max_depth}.",
                node,
                extensions={"code": QUERY_TOO_DEEP},
            )
        )
    if cost > max_cost:
        errors.append(
            GraphQLError(
                f"The query may return {cost} nodes; the limit is {max_cost}.",
                node,
                extensions={"code": QUERY_TOO_COMPLEX},
            )
        )
    if aliases > max_aliases:
        errors.append(
            GraphQLError(
                f"The query uses {aliases} aliases; the limit is {max_aliases}.",
                node,
                extensions={"code": QUERY_TOO_COMPLEX},
            )
        )
    return errors


def limit_errors(document: DocumentNode, variables: Mapping[str, Any]) -> list[GraphQLError]:
    """The depth, cost and alias limits of every operation of a (validated) document, without a
    validation pass: they depend on the variables, so they run on every request."""
    walker = _Walker(document, variables)
    limits = (settings.GRAPHQL_MAX_DEPTH, settings.GRAPHQL_MAX_COST, settings.GRAPHQL_MAX_ALIASES)
    errors: list[GraphQLError] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            errors.extend(_limit_errors(definition, walker, *limits))
    return errors


def limits_rule(variables: Mapping[str, Any] | None) -> type[ASTValidationRule]:
    limits = (settings.GRAPHQL_MAX_DEPTH, settings.GRAPHQL_MAX_COST, settings.GRAPHQL_MAX_ALIASES)
    bound = variables or {}

    class QueryLimitsRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.walker = _Walker(context.document, bound)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> Any:
            for error in _limit_errors(node, self.walker, *limits):
                self.report_error(error)
            return self.SKIP

    return QueryLimitsRule


# graphql-core's OverlappingFieldsCanBeMergedRule compares every pair of selections that share a
# response name (and every pair of fragment spreads) in a selection set: 500 repeated `id`s in
# 1.5 KB of text cost 137 ms, 3,000 cost 250 ms (then it gives up with a RecursionError). No real
# query repeats a field more than a few times, so such documents are refused before validation.
MAX_REPEATED_PAIRS = 1_000


def _count_keys(selection_set: SelectionSetNode, counts: dict[str, int]) -> None:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            key = (selection.alias or selection.name).value
        elif isinstance(selection, FragmentSpreadNode):
            key = "..."  # every pair of spreads is compared, whatever their fragments
        elif isinstance(selection, InlineFragmentNode):
            _count_keys(selection.selection_set, counts)  # merged into the enclosing set
            continue
        else:
            continue
        counts[key] = counts.get(key, 0) + 1


def _repeated_pairs(selection_set: SelectionSetNode | None) -> int:
    if selection_set is None:
        return 0
    counts: dict[str, int] = {}
    _count_keys(selection_set, counts)
    pairs = sum(count * (count - 1) // 2 for count in counts.values())
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode | InlineFragmentNode):
            pairs += _repeated_pairs(selection.selection_set)
    return pairs


def repeated_field_errors(document: DocumentNode) -> list[GraphQLError]:
    """A coded error when the document's selections repeat response names (or fragment spreads)
    in more than `MAX_REPEATED_PAIRS` pairs; linear in the document, run before validation."""
    pairs = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            pairs += _repeated_pairs(definition.selection_set)
    if pairs <= MAX_REPEATED_PAIRS:
        return []
    message = (
        f"The query repeats the same fields in {pairs} pairs of selections; "
        f"the limit is {MAX_REPEATED_PAIRS}."
    )
    return [GraphQLError(message, extensions={"code": QUERY_TOO_COMPLEX})]


def introspection_allowed() -> bool:
    return bool(settings.GRAPHQL_INTROSPECTION)


def rules(
    variables: Mapping[str, Any] | None = None, *, limits: bool = True
) -> list[type[ASTValidationRule]]:
    """graphql-core's rules, the introspection switch and (unless `limits` is off) the limits.
    Without the limits the outcome depends on the query text alone, so it may be cached."""
    extra: list[type[ASTValidationRule]] = []
    if limits:
        extra.append(limits_rule(variables))
    if not introspection_allowed():
        extra.append(NoSchemaIntrospectionCustomRule)
    return [*specified_rules, *extra]
