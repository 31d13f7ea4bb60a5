"""graph/operation.py: the one pipeline for HTTP and WebSockets. Limits apply in order and before
validation; validation is cached per (schema, text) with the schema held weakly; the prepared
operation is immutable."""

from __future__ import annotations

import dataclasses
import gc
from typing import Any

import graphene
import pytest
from graphql import GraphQLError, OperationType

from graph import operation
from graph.operation import OperationRefused, prepare
from graph.schema import schema


@pytest.fixture
def validations(monkeypatch: Any) -> list[str]:
    """The query texts graphql-core's validation ran on."""
    seen: list[str] = []
    real = operation.validate

    def counting(schema: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        assert document.loc is not None
        seen.append(document.loc.source.body)
        return real(schema, document, *args, **kwargs)

    monkeypatch.setattr(operation, "validate", counting)
    operation._caches.clear()
    return seen


def refused(query: str, variables: dict[str, Any] | None = None, **options: Any) -> Any:
    with pytest.raises(OperationRefused) as caught:
        prepare(query, variables, **options)
    return caught.value


def codes(error: OperationRefused) -> list[str]:
    return [(item.extensions or {}).get("code", "") for item in error.errors]


def test_the_prepared_operation_is_immutable() -> None:
    prepared = prepare("query Me($x: Int) { tasks(first: $x) { totalCount } }", {"x": 1}, "Me")
    assert prepared.kind == OperationType.QUERY and prepared.operation_name == "Me"
    with pytest.raises(dataclasses.FrozenInstanceError):
        prepared.query = "{ viewer { username } }"  # type: ignore[misc]
    with pytest.raises(TypeError):
        prepared.variables["x"] = 2  # type: ignore[index]


def test_validation_runs_once_per_text_and_schema(validations: list[str]) -> None:
    query = "query($n: Int) { tasks(first: $n) { edges { node { id } } } }"
    for size in (1, 5, 10):
        prepare(query, {"n": size})
    assert validations == [query]
    other = graphene.Schema(query=schema.graphql_schema.query_type and _TinyQuery)
    prepare("{ hello }", schema=other.graphql_schema)
    prepare("{ hello }", schema=other.graphql_schema)
    assert validations == [query, "{ hello }"]


class _TinyQuery(graphene.ObjectType):
    hello = graphene.String()


def test_the_cache_forgets_a_schema_with_the_schema(validations: list[str]) -> None:
    tiny = graphene.Schema(query=_TinyQuery).graphql_schema
    prepare("{ hello }", schema=tiny)
    assert len(operation._caches) == 1
    del tiny
    gc.collect()
    assert len(operation._caches) == 0


def test_invalid_documents_are_remembered_too(validations: list[str]) -> None:
    for _ in range(3):
        assert codes(refused("{ viewer { nope } }")) == ["GRAPHQL_VALIDATION_FAILED"]
    assert validations == ["{ viewer { nope } }"]


def test_variable_dependent_limits_apply_on_every_call(settings: Any) -> None:
    settings.GRAPHQL_MAX_COST = 300
    query = "query($n: Int) { tasks(first: $n) { edges { node { id title status } } } }"
    prepare(query, {"n": 10})
    assert codes(refused(query, {"n": 100})) == ["QUERY_TOO_COMPLEX"]
    prepare(query, {"n": 10})


def test_size_is_refused_before_parsing(settings: Any, monkeypatch: Any) -> None:
    settings.GRAPHQL_MAX_QUERY_BYTES = 100

    def no_parse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("parsed")

    monkeypatch.setattr(operation, "parse", no_parse)
    error = refused("{ viewer { " + "é" * 45 + " } }")  # 104 bytes in 60 characters
    assert error.stage == "too_large" and codes(error) == ["QUERY_TOO_COMPLEX"]


def test_parse_errors_and_the_token_limit() -> None:
    assert codes(refused("{ viewer ")) == ["GRAPHQL_PARSE_FAILED"]
    many = "{ viewer { " + " ".join(f"a{n}: id" for n in range(5_100)) + " } }"
    assert codes(refused(many)) == ["QUERY_TOO_COMPLEX"]


def test_admit_runs_after_parsing_and_before_validation(validations: list[str]) -> None:
    chosen: list[str] = []

    def admit(node: Any) -> None:
        chosen.append(node.name.value)
        raise GraphQLError("not you")

    with pytest.raises(GraphQLError):
        prepare("query A { viewer { nope } } query B { viewer { id } }", None, "B", admit=admit)
    assert chosen == ["B"] and validations == []
    assert codes(refused("query A { viewer { id } } query B { viewer { id } }")) == [
        "BAD_USER_INPUT"
    ]


@pytest.mark.parametrize(
    "query",
    [
        "{ viewer { " + "id " * 101 + "} }",  # 5,050 pairs of the same field
        "{ viewer { " + "... on User { id } " * 101 + "} }",
        "{ viewer { "
        + " ".join(f"...F{n}" for n in range(80))
        + " } }\n"
        + "\n".join(f"fragment F{n} on User {{ id username }}" for n in range(80)),
        "{ viewer { ...F0 } }\n"
        + "\n".join(f"fragment F{n} on User {{ ...F{n + 1} }}" for n in range(21))
        + "\nfragment F21 on User { id }",
        "{ viewer { id } }\n" + "\n".join(f"fragment F{n} on User {{ id }}" for n in range(201)),
    ],
    ids=["repeated", "inline", "side-by-side", "nested", "many"],
)
def test_shapes_that_make_validation_quadratic_are_refused_first(
    query: str, validations: list[str]
) -> None:
    error = refused(query)
    assert codes(error) == ["QUERY_TOO_COMPLEX"] and validations == []


def test_ordinary_fragments_pass_the_shape_check() -> None:
    query = (
        "{ viewer { ...A ...B id } tasks(first: 5) { edges { node { ...T } } } }\n"
        "fragment A on User { id username }\nfragment B on User { id displayName ...A }\n"
        "fragment T on Task { id title assignee { ...A } createdBy { ...B } }"
    )
    assert prepare(query).kind == OperationType.QUERY
