"""One GraphQL operation pipeline for every transport: `prepare` then `execute` (or `subscribe`).

`prepare(query, variables, operation_name)`:
  1. refuses query text over `GRAPHQL_MAX_QUERY_BYTES` before parsing it (QUERY_TOO_COMPLEX);
  2. parses with a token limit (GRAPHQL_PARSE_FAILED; over the limit: QUERY_TOO_COMPLEX);
  3. picks the operation and lets the transport `admit` it (authentication, method rules,
     throttling) before any validation work is spent on it;
  4. applies the depth, cost and alias limits (QUERY_TOO_DEEP, QUERY_TOO_COMPLEX) on every call:
     they depend on the variables, and checking them first spares validating what they refuse;
  5. refuses shapes no real query has that make validation quadratic (repeated fields, side by
     side or nested fragments; QUERY_TOO_COMPLEX; see `graph.validation.shape_errors`);
  6. validates with graphql-core's rules through a cache keyed by (schema, query text), the schema
     held weakly, so a rebuilt schema never reads another's entries (GRAPHQL_VALIDATION_FAILED).
It returns a frozen `PreparedOperation` or raises `OperationRefused` with coded GraphQL errors.

The HTTP view (graph/views.py) and the graphql-transport-ws consumer (realtime/graphql_ws.py) both
go through here and nothing else.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from django.conf import settings
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    create_source_event_stream,
    get_operation_ast,
    parse,
    validate,
)
from graphql import (
    execute as graphql_execute,
)
from graphql.execution import Middleware
from graphql.pyutils import AwaitableOrValue

from .errors import (
    BAD_USER_INPUT,
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    QUERY_TOO_COMPLEX,
    coded,
)
from .execution import FastExecutionContext
from .validation import introspection_allowed, limit_errors, rules, shape_errors

MAX_TOKENS = 15_000
MAX_VALIDATION_ERRORS = 50
CACHE_SIZE = 256  # distinct query texts remembered per schema
# Longer texts are parsed and validated every time: the cache must not become a way to pin memory.
CACHEABLE_QUERY_BYTES = 20_000

Stage = Literal["too_large", "parse", "operation", "validation"]


class OperationRefused(Exception):
    """An operation that will not run; `errors` carry their `extensions.code`."""

    def __init__(self, errors: list[GraphQLError], stage: Stage) -> None:
        super().__init__(errors[0].message if errors else stage)
        self.errors = errors
        self.stage = stage


@dataclass(frozen=True, slots=True)
class PreparedOperation:
    """A parsed, validated operation with its variables, ready to execute (immutable: the
    document is shared through the cache and never mutated)."""

    schema: GraphQLSchema
    query: str
    document: DocumentNode
    operation: OperationDefinitionNode
    operation_name: str | None
    variables: Mapping[str, Any]

    @property
    def kind(self) -> OperationType:
        return self.operation.operation


# Per schema (held weakly): query text and suggestion setting -> the parsed document and the
# outcome of the spec rules (an empty tuple when valid). Both are functions of the text alone.
_Entry = tuple[DocumentNode, tuple[GraphQLError, ...]]
_caches: weakref.WeakKeyDictionary[GraphQLSchema, OrderedDict[tuple[str, bool], _Entry]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def default_schema() -> GraphQLSchema:
    from .schema import schema

    served: GraphQLSchema = schema.graphql_schema
    return served


def _cached(schema: GraphQLSchema, key: tuple[str, bool]) -> _Entry | None:
    with _lock:
        cache = _caches.get(schema)
        if cache is None or key not in cache:
            return None
        cache.move_to_end(key)
        return cache[key]


def _remember(schema: GraphQLSchema, key: tuple[str, bool], entry: _Entry) -> None:
    with _lock:
        cache = _caches.setdefault(schema, OrderedDict())
        cache[key] = entry
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)


def _coded(errors: list[GraphQLError] | tuple[GraphQLError, ...], code: str) -> list[GraphQLError]:
    for error in errors:
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": code}
    return list(errors)


def _parse(query: str) -> DocumentNode:
    try:
        return parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        too_many = error.message.startswith("Syntax Error: Document contains more than")
        code = QUERY_TOO_COMPLEX if too_many else GRAPHQL_PARSE_FAILED
        raise OperationRefused(_coded([error], code), "parse") from None


def prepare(
    query: str,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    *,
    schema: GraphQLSchema | None = None,
    admit: Callable[[OperationDefinitionNode], None] | None = None,
) -> PreparedOperation:
    """The operation ready to run, or `OperationRefused`. `admit` runs on the chosen operation
    after parsing and before validation; whatever it raises propagates unchanged."""
    schema = schema if schema is not None else default_schema()
    size = len(query.encode("utf-8"))
    limit = settings.GRAPHQL_MAX_QUERY_BYTES
    if size > limit:
        message = f"The query is {size} bytes long; the limit is {limit}."
        raise OperationRefused([coded(message, QUERY_TOO_COMPLEX)], "too_large")

    hide = not introspection_allowed()
    key = (query, hide)
    entry = _cached(schema, key)
    document = entry[0] if entry is not None else _parse(query)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        message = "Name the operation to run (`operationName`), or send exactly one."
        raise OperationRefused([coded(message, BAD_USER_INPUT)], "operation")
    if admit is not None:
        admit(operation)

    bound = MappingProxyType(dict(variables or {}))
    limited = limit_errors(document, bound)  # linear, and spares validation work on what fails
    if limited:
        raise OperationRefused(limited, "validation")
    if entry is None:
        refused = shape_errors(document)
        if refused:
            raise OperationRefused(refused, "validation")
        found = validate(
            schema,
            document,
            rules(limits=False),
            max_errors=MAX_VALIDATION_ERRORS,
            hide_suggestions=hide,
        )
        entry = (document, tuple(_coded(found, GRAPHQL_VALIDATION_FAILED)))
        if size <= CACHEABLE_QUERY_BYTES:
            _remember(schema, key, entry)
    if entry[1]:
        raise OperationRefused(list(entry[1]), "validation")
    return PreparedOperation(schema, query, document, operation, operation_name, bound)


def execute(
    prepared: PreparedOperation,
    root: Any,
    context: Any,
    *,
    middleware: Middleware | None = None,
) -> AwaitableOrValue[ExecutionResult]:
    """Runs a prepared query or mutation (a subscription's per-event selection too, with the
    event as `root`)."""
    return graphql_execute(
        prepared.schema,
        prepared.document,
        root_value=root,
        context_value=context,
        variable_values=dict(prepared.variables),
        operation_name=prepared.operation_name,
        middleware=middleware or None,
        execution_context_class=FastExecutionContext,
    )


def subscribe(prepared: PreparedOperation, root: Any, context: Any) -> Awaitable[Any]:
    """The event stream of a prepared subscription (an `ExecutionResult` when its variables do
    not fit the operation or its source refuses at once)."""
    return create_source_event_stream(
        prepared.schema,
        prepared.document,
        root_value=root,
        context_value=context,
        variable_values=dict(prepared.variables),
        operation_name=prepared.operation_name,
    )
