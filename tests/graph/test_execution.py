"""`FastExecutionContext` (graph/execution.py) answers exactly as graphql-core's own executor,
errors included, while working out each selection's fields once per request."""

from __future__ import annotations

from typing import Any

import graphene
import pytest
from graphene import relay
from graphql import ExecutionContext, execute, parse

from graph import execution
from graph.execution import FastExecutionContext


class Item(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)

    name = graphene.String(required=True)
    note = graphene.String()
    size = graphene.Int()
    broken = graphene.String()

    @staticmethod
    def resolve_broken(root: Any, info: Any) -> str:
        raise ValueError("broken on purpose")


class Box(graphene.ObjectType):
    label = graphene.String(required=True)
    item = graphene.Field(Item, required=True)
    maybe = graphene.Field(Item)
    items = graphene.NonNull(graphene.List(graphene.NonNull(Item)))
    node = graphene.Field(relay.Node)


class Query(graphene.ObjectType):
    boxes = graphene.List(graphene.NonNull(Box))

    @staticmethod
    def resolve_boxes(root: Any, info: Any) -> list[dict[str, Any]]:
        return info.context["boxes"]


schema = graphene.Schema(query=Query, types=[Item])


class Thing:
    def __init__(self, id: int, name: Any, size: Any = 1, note: Any = None) -> None:
        self.id, self.name, self.size, self.note = id, name, size, note


def run(query: str, boxes: list[dict[str, Any]], context_class: type[ExecutionContext]) -> Any:
    result = execute(
        schema.graphql_schema,
        parse(query),
        context_value={"boxes": boxes},
        execution_context_class=context_class,
    )
    assert not hasattr(result, "__await__")
    return result.data, [error.formatted for error in result.errors or []]


QUERIES = [
    "{ boxes { label item { id name note size } maybe { name } items { id name } } }",
    "{ boxes { item { name broken } } }",
    "{ boxes { a: item { name } b: item { size } label } }",
    "{ boxes { node { id ... on Item { name } } } }",
    "{ boxes { items { name } } }",
    "{ boxes { maybe { name } } }",
]
BOXES = [
    # Plain values.
    [
        {
            "label": "one",
            "item": Thing(1, "a"),
            "maybe": None,
            "items": [Thing(2, "b"), Thing(3, "c", size=None)],
            "node": Thing(4, "d"),
        },
        {"label": "two", "item": Thing(5, "e"), "maybe": Thing(6, "f"), "items": []},
    ],
    # A null in a non-null leaf, in a non-null object, and in a non-null list item.
    [
        {"label": "x", "item": Thing(1, None), "maybe": Thing(2, None), "items": [None]},
        {"label": None, "item": None, "items": [Thing(3, "c")]},
    ],
    # Values their types refuse.
    [{"label": "x", "item": Thing(1, "a", size="not a number"), "items": [Thing(2, ["x"])]}],
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("boxes", BOXES)
def test_same_data_and_errors_as_graphql_core(query: str, boxes: list[dict[str, Any]]) -> None:
    if "node" in query:
        for box in boxes:
            box.setdefault("node", None)
    expected = run(query, boxes, ExecutionContext)
    assert run(query, boxes, FastExecutionContext) == expected


def test_a_selection_is_looked_up_once_per_request_not_once_per_object(monkeypatch) -> None:
    calls: list[str] = []
    original = execution.get_field_def

    def counting(schema: Any, parent_type: Any, node: Any) -> Any:
        calls.append(node.name.value)
        return original(schema, parent_type, node)

    monkeypatch.setattr(execution, "get_field_def", counting)
    boxes = [{"label": str(n), "item": Thing(n, f"i{n}"), "items": []} for n in range(20)]
    data, errors = run("{ boxes { label item { id name } } }", boxes, FastExecutionContext)
    assert not errors and data["boxes"][19] == {
        "label": "19",
        "item": {"id": "SXRlbToxOQ==", "name": "i19"},
    }
    assert sorted(calls) == ["boxes", "id", "item", "label", "name"], calls
