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
# `changes(first:)` (graph.changes): its lists together hold at most `first` objects (the
# default page is the largest), so each of them counts `first` times and `changes` itself once.
CHANGES_FIELD = "changes"
CHANGES_LISTS = frozenset({"tasks", "comments", "attachments", "members", "deleted"})


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
        self.measured: dict[tuple[str, int | None], tuple[int, int, int]] = {}

    def walk(
        self, selection_set: SelectionSetNode | None, changes_size: int | None = None
    ) -> tuple[int, int, int]:
        """(depth, cost for a multiplier of 1, aliases) of a selection set; `changes_size`: the
        `first` of the `changes` field whose selection this is."""
        depth = cost = aliases = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name.startswith("__"):
                    continue
                if selection.alias is not None:
                    aliases += 1
                size = _page_size(selection, self.variables)
                inner = None
                if changes_size is not None and name in CHANGES_LISTS:
                    size = changes_size
                elif name == CHANGES_FIELD and changes_size is None:
                    inner, size = size or MAX_PAGE_SIZE, None
                elif size is None and name in CONNECTION_FIELDS:
                    size = DEFAULT_PAGE_SIZE
                child_depth, child_cost, child_aliases = self.walk(selection.selection_set, inner)
                depth = max(depth, 1 + child_depth)
                cost += 1 + (size or 1) * child_cost
                aliases += child_aliases
                continue
            if isinstance(selection, FragmentSpreadNode):
                child = self._fragment(selection.name.value, changes_size)
            elif isinstance(selection, InlineFragmentNode):
                child = self.walk(selection.selection_set, changes_size)
            else:
                continue
            depth = max(depth, child[0])
            cost += child[1]
            aliases += child[2]
        return depth, cost, aliases

    def _fragment(self, name: str, changes_size: int | None = None) -> tuple[int, int, int]:
        key = (name, changes_size)
        if key in self.measured:
            return self.measured[key]
        fragment = self.fragments.get(name)
        self.measured[key] = (0, 0, 0)  # a cycle reaching back here counts as nothing
        if fragment is not None:
            self.measured[key] = self.walk(fragment.selection_set, changes_size)
        return self.measured[key]


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


# graphql-core's validation is quadratic in a few shapes no real query has. Measured (2-core
# machine, validation alone): 500 repeated `id`s in one selection set (1.5 KB of text) 137 ms,
# 3,000 of them 250 ms; 500 distinct fragments spread side by side (18 KB) 1.1 s; a chain of 100
# fragments each spreading the next (3.5 KB) 104 ms; 800 fragment definitions (30 KB) 162 ms.
# Such documents are refused by a linear pass before validation (QUERY_TOO_COMPLEX).
MAX_REPEATED_PAIRS = 5_000  # pairs of same-named fields in merged selection sets, summed
MAX_SHAPE_WORK = 100_000  # selections visited with fragments expanded, by the check below
MAX_FRAGMENTS = 200
MAX_FRAGMENT_NESTING = 20


class _TooComplex(Exception):
    pass


class _Pairs:
    """Counts what OverlappingFieldsCanBeMergedRule compares: in each selection set, with
    fragments and inline fragments expanded, every pair of fields sharing a response name, then
    the same within the merged sub-selections of those fields. Stops (`_TooComplex`) past
    `MAX_REPEATED_PAIRS` pairs or `MAX_SHAPE_WORK` visited selections."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.pairs = 0
        self.work = 0

    def _collect(
        self,
        selection_set: SelectionSetNode,
        into: dict[str, list[FieldNode]],
        visiting: frozenset[str],
    ) -> None:
        for selection in selection_set.selections:
            self.work += 1
            if self.work > MAX_SHAPE_WORK:
                raise _TooComplex(f"visits more than {MAX_SHAPE_WORK} selections to validate")
            if isinstance(selection, FieldNode):
                into.setdefault((selection.alias or selection.name).value, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                self._collect(selection.selection_set, into, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in visiting:
                    self._collect(fragment.selection_set, into, visiting | {name})

    def count(self, selection_sets: list[SelectionSetNode]) -> None:
        fields: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(selection_set, fields, frozenset())
        for nodes in fields.values():
            self.pairs += len(nodes) * (len(nodes) - 1) // 2
            if self.pairs > MAX_REPEATED_PAIRS:
                raise _TooComplex(
                    f"repeats the same fields in more than {MAX_REPEATED_PAIRS} pairs of selections"
                )
            below = [node.selection_set for node in nodes if node.selection_set is not None]
            if below:
                self.count(below)


def _spreads(selection_set: SelectionSetNode | None) -> list[str]:
    found: list[str] = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FragmentSpreadNode):
            found.append(selection.name.value)
        elif isinstance(selection, FieldNode | InlineFragmentNode):
            found.extend(_spreads(selection.selection_set))
    return found


def _fragment_nesting(fragments: dict[str, FragmentDefinitionNode]) -> int:
    """The longest chain of fragments spreading fragments (a cycle counts as ending; the spec
    rules report it)."""
    spreads = {name: _spreads(fragment.selection_set) for name, fragment in fragments.items()}
    nesting: dict[str, int] = {}
    for root in spreads:
        stack: list[tuple[str, int]] = [(root, 0)]  # iterative: a long chain must not recurse
        visiting: set[str] = set()
        while stack:
            name, index = stack.pop()
            if index == 0:
                if name in nesting or name in visiting or name not in spreads:
                    continue
                visiting.add(name)
            children = spreads[name]
            if index < len(children):
                stack.append((name, index + 1))
                stack.append((children[index], 0))
                continue
            visiting.discard(name)
            nesting[name] = 1 + max((nesting.get(child, 0) for child in children), default=0)
    return max(nesting.values(), default=0)


def _too_complex(message: str) -> list[GraphQLError]:
    return [GraphQLError(message, extensions={"code": QUERY_TOO_COMPLEX})]


def shape_errors(document: DocumentNode) -> list[GraphQLError]:
    """A coded error for a document whose shape would make validation expensive (see above);
    linear in the document, run before validation."""
    fragments = _fragments(document)
    if len(fragments) > MAX_FRAGMENTS:
        return _too_complex(
            f"The query defines {len(fragments)} fragments; the limit is {MAX_FRAGMENTS}."
        )
    nesting = _fragment_nesting(fragments)
    if nesting > MAX_FRAGMENT_NESTING:
        return _too_complex(
            f"The query nests fragments {nesting} deep; the limit is {MAX_FRAGMENT_NESTING}."
        )
    counter = _Pairs(fragments)
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
                counter.count([definition.selection_set])
    except _TooComplex as error:
        return _too_complex(f"The query {error}; validating it would cost too much.")
    return []


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
