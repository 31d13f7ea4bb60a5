"""`FastExecutionContext` caches leaf plans per schema, never by `id()` of a field: when a schema
is rebuilt, a new field can take a freed field's address, and an `id()`-keyed plan then read the
old field's attribute (27 wrong answers in 200 rebuilds before the fix)."""

from __future__ import annotations

import gc
from functools import partial
from typing import Any

from graphene.types.resolver import dict_or_attr_resolver
from graphql import (
    ExecutionContext,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    execute,
    parse,
)

from graph.execution import FastExecutionContext

REBUILDS = 200
DOCUMENT = parse("{ first second }")


class Root:
    def __getattr__(self, name: str) -> str:
        return f"value of {name}"


def _field(attribute: str) -> GraphQLField:
    # What graphene builds for a field without a resolver: its default attribute resolver.
    return GraphQLField(GraphQLString, resolve=partial(dict_or_attr_resolver, attribute, None))


def _schema(round_: int) -> GraphQLSchema:
    fields = {"first": _field(f"first_{round_}"), "second": _field(f"second_{round_}")}
    return GraphQLSchema(GraphQLObjectType("Query", fields))


def test_rebuilt_schemas_always_read_their_own_fields() -> None:
    wrong: list[tuple[int, Any]] = []
    for round_ in range(REBUILDS):
        schema = _schema(round_)
        result = execute(
            schema,
            DOCUMENT,
            root_value=Root(),
            execution_context_class=FastExecutionContext,
        )
        expected = {"first": f"value of first_{round_}", "second": f"value of second_{round_}"}
        if result.errors or result.data != expected:  # type: ignore[union-attr]
            wrong.append((round_, result.data))  # type: ignore[union-attr]
        del schema, result
        gc.collect(1)  # frees the fields, so the next schema's may reuse their addresses
    assert wrong == []


class Recorder:
    """graphql-core middleware: records every field it sees."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def resolve(self, next_: Any, root: Any, info: Any, **args: Any) -> Any:
        self.seen.append(info.field_name)
        value = next_(root, info, **args)
        return value.upper() if isinstance(value, str) else value


def test_middleware_sees_every_field_and_answers_match_graphql_core() -> None:
    schema = _schema(0)
    answers = []
    for context_class in (ExecutionContext, FastExecutionContext):
        recorder = Recorder()
        result = execute(
            schema,
            DOCUMENT,
            root_value=Root(),
            middleware=[recorder],
            execution_context_class=context_class,
        )
        answers.append((result.data, result.errors, recorder.seen))  # type: ignore[union-attr]
    assert answers[0] == answers[1]
    assert answers[1][0] == {"first": "VALUE OF FIRST_0", "second": "VALUE OF SECOND_0"}
