"""The hot path of `/graphql` over HTTP, measured with `make bench` (bench/README.md).

- `FastExecutionContext` skips `is_type_of` when completing a concrete object type. Every field's
  resolver here returns the model (or dict) of its declared type, so asking `isinstance` for each
  of the thousands of objects in a page only costs time; interfaces (`node`) still pick their
  type through `is_type_of`. Over HTTP resolvers are synchronous, so nothing is awaitable.
- Each selection's fields (and which are leaves read directly) are worked out once per request, not
  once per object of a list; a present object of a concrete type goes straight to its selection.
  Nulls, errors, lists, leaves and interfaces take graphql-core's own path, so data and errors
  are the same (tests/graph/test_execution.py).
- Measured in-process (bench query `tasks(first: N)` with assignee, comments and their authors,
  SQLite, graphql-core's `ExecutionContext` vs this one in the same run): 13% less time at N=10,
  40% at 50, 37% at 100 -- above the 10% that justifies departing from graphql-core's executor.
- Leaf plans are cached per schema (a `WeakKeyDictionary`, keyed by type and field name), never
  by `id()` of a field: a rebuilt schema's field may reuse a freed field's address.
- With graphql-core middleware installed every field takes the general path (middleware must see
  every resolver call); only the per-request selection plans and the `is_type_of` skip remain.
- tests/graph/test_execution.py and tests/graph/test_execution_property.py check that data and
  errors equal graphql-core's, the latter on hypothesis-graphql's generated queries.
"""

from __future__ import annotations

import threading
import weakref
from asyncio import gather
from base64 import b64encode
from collections.abc import Callable
from functools import partial
from typing import Any

from graphene import relay
from graphene.relay.id_type import DefaultGlobalIDType
from graphene.relay.node import GlobalID
from graphene.types.resolver import dict_or_attr_resolver
from graphql import (
    ExecutionContext,
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_named_type,
)
from graphql.execution.execute import get_field_def
from graphql.pyutils import Path
from graphql.pyutils import is_awaitable as default_is_awaitable

# How a leaf field without arguments reads its value when graphene's default resolver (or a
# Relay `id` over it) would: (attribute name, default, Relay node type or None, its type name,
# the leaf type's `serialize`).
_Plan = tuple[str, Any, Any, str | None, Callable[[Any], Any]]
# Per schema, held weakly: (type name, field name) -> the leaf's plan (None: the general path).
_plans: weakref.WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], _Plan | None]] = (
    weakref.WeakKeyDictionary()
)
_plans_lock = threading.Lock()
_PLAIN_TYPES = frozenset({dict, list, str, int, bool, float, type(None)})


def _attribute_of(resolve: Any) -> tuple[str, Any] | None:
    if (
        isinstance(resolve, partial)
        and resolve.func is dict_or_attr_resolver
        and len(resolve.args) == 2
        and not resolve.keywords
    ):
        return resolve.args[0], resolve.args[1]
    return None


def _plan(schema: GraphQLSchema, parent_type: GraphQLObjectType, name: str) -> _Plan | None:
    plans = _plans.get(schema)
    if plans is None:
        with _plans_lock:
            plans = _plans.setdefault(schema, {})
    key = (parent_type.name, name)
    try:
        return plans[key]
    except KeyError:
        pass
    field = parent_type.fields.get(name)
    plan = _leaf_plan(field) if field is not None else None
    plans[key] = plan
    return plan


def _leaf_plan(field: GraphQLField) -> _Plan | None:
    plan: _Plan | None = None
    resolve = field.resolve
    leaf = get_named_type(field.type)
    if not field.args and isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
        serialize = leaf.serialize
        attribute = _attribute_of(resolve)
        if attribute is not None:
            plan = (attribute[0], attribute[1], None, None, serialize)
        elif (
            isinstance(resolve, partial)
            and resolve.func is GlobalID.id_resolver
            and len(resolve.args) == 2
            and set(resolve.keywords) == {"parent_type_name"}
        ):
            attribute = _attribute_of(resolve.args[0])
            if attribute is not None:
                type_name = resolve.keywords["parent_type_name"]
                node = resolve.args[1]
                if _default_global_ids(node):
                    node = _GlobalIds
                plan = (*attribute, node, type_name, serialize)
    return plan


class _GlobalIds:
    """Relay's default global ID, `base64("Type:id")`, for an int id: graphene's
    `Node.to_global_id` reaches the same `b64encode` through three calls and the `ID` scalar's
    `serialize` twice; 6% of a `tasks(first: 50)` request measured in-process with cProfile
    (bench/PROFILES.md). Anything but an int goes through graphene."""

    @staticmethod
    def to_global_id(type_name: str, value: Any) -> Any:
        if type(value) is int:
            return b64encode(f"{type_name}:{value}".encode()).decode("ascii")
        return relay.Node.to_global_id(type_name, value)


def _default_global_ids(node: Any) -> bool:
    """Whether `node` makes graphene's default global IDs (not a custom ID type or method)."""
    method = getattr(node, "to_global_id", None)
    meta = getattr(node, "_meta", None)
    return (
        getattr(method, "__func__", None) is relay.Node.to_global_id.__func__
        and getattr(meta, "global_id_type", None) is DefaultGlobalIDType
    )


def _is_awaitable(value: Any) -> bool:
    return type(value) not in _PLAIN_TYPES and default_is_awaitable(value)


_MISS = object()


def _read(plan: _Plan, parent_type: GraphQLObjectType, source: Any) -> Any:
    """A leaf's serialized value read directly, or `_MISS` when anything is unusual (null, an
    error, a value its type refuses): the general path then reports it exactly as before."""
    attname, default, node, type_name, serialize = plan
    try:
        if isinstance(source, dict):
            value = source.get(attname, default)
        else:
            value = getattr(source, attname, default)
        if node is not None:
            value = node.to_global_id(type_name or parent_type.name, value)
        if value is not None and not isinstance(value, Exception):
            serialized = serialize(value)
            if serialized is not None and serialized is not Undefined:
                return serialized
    except Exception:  # noqa: BLE001 - the general path raises and reports it properly
        return _MISS
    return _MISS


# One selection's fields with the leaf plan of each (None: the general path).
_FieldPlans = list[tuple[str, list[FieldNode], _Plan | None]]


class FastExecutionContext(ExecutionContext):
    is_awaitable = staticmethod(_is_awaitable)
    _field_plans: dict[int, tuple[Any, Any, _FieldPlans]] | None = None

    def _has_middleware(self) -> bool:
        """graphql-core builds a manager even for an empty middleware list."""
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)

    def _planned(
        self, parent_type: GraphQLObjectType, fields: dict[str, list[FieldNode]]
    ) -> _FieldPlans:
        """The plans of a selection, worked out once per request: graphql-core hands the same
        `fields` dict (memoised by `collect_subfields`) for every object of a list."""
        cache = self._field_plans
        if cache is None:
            cache = self._field_plans = {}
        entry = cache.get(id(fields))
        if entry is not None and entry[0] is fields and entry[1] is parent_type:
            return entry[2]
        plans: _FieldPlans = []
        direct = not self._has_middleware()  # middleware must see every resolver call
        for response_name, field_nodes in fields.items():
            node = field_nodes[0]
            field_def = get_field_def(self.schema, parent_type, node)
            plan = None
            if direct and field_def is not None and not node.arguments:
                plan = _plan(self.schema, parent_type, node.name.value)
            plans.append((response_name, field_nodes, plan))
        cache[id(fields)] = (fields, parent_type, plans)  # holding `fields` keeps its id unique
        return plans

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        fields: dict[str, list[FieldNode]],
    ) -> Any:
        """As graphql-core's, except that leaves read directly skip the per-field lookups and
        the `Path` they would only need to report an error."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        general = ExecutionContext.execute_field
        for response_name, field_nodes, plan in self._planned(parent_type, fields):
            if plan is not None:
                value = _read(plan, parent_type, source_value)
                if value is not _MISS:
                    results[response_name] = value
                    continue
            field_path = Path(path, response_name, parent_type.name)
            result = general(self, parent_type, source_value, field_nodes, field_path)
            if result is not Undefined:
                results[response_name] = result
                if is_awaitable(result):
                    awaitable_fields.append(response_name)
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            values = await gather(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, values, strict=True))
            return results

        return get_results()

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_nodes: list[FieldNode],
        path: Path,
    ) -> Any:
        """Leaf fields that graphene would read with its default resolver are read here
        directly (mutations' serial execution comes here); anything unusual (null, an error,
        arguments) takes the general path, which reports it exactly as before."""
        node = field_nodes[0]
        plan = None
        if not node.arguments and not self._has_middleware():
            field_def = get_field_def(self.schema, parent_type, node)
            plan = _plan(self.schema, parent_type, node.name.value) if field_def else None
        if plan is not None:
            value = _read(plan, parent_type, source)
            if value is not _MISS:
                return value
        return super().execute_field(parent_type, source, field_nodes, path)

    def complete_value(
        self,
        return_type: Any,
        field_nodes: list[FieldNode],
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
    ) -> Any:
        """A present object of a concrete type (possibly non-null) goes straight to its
        selection; everything else (null, errors, lists, leaves, interfaces) as graphql-core."""
        if result is not None and not isinstance(result, Exception):
            named = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
            if isinstance(named, GraphQLObjectType):
                return self.complete_object_value(named, field_nodes, info, path, result)
        return super().complete_value(return_type, field_nodes, info, path, result)

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_nodes: list[FieldNode],
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
    ) -> Any:
        sub_field_nodes = self.collect_subfields(return_type, field_nodes)
        return self.execute_fields(return_type, result, path, sub_field_nodes)
