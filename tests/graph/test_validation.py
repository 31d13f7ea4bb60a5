"""The limit rules measure fragments once (no blow-up), count page sizes from variables and
skip introspection fields."""

from __future__ import annotations

from typing import Any

from graphql import parse, validate

from graph.schema import schema
from graph.validation import rules


def error_codes(query: str, variables: dict[str, Any] | None = None) -> list[str]:
    errors = validate(schema.graphql_schema, parse(query), rules(variables))
    return [(error.extensions or {}).get("code", "") for error in errors]


def test_fragment_bomb_is_measured_quickly_and_refused(settings: Any) -> None:
    settings.GRAPHQL_MAX_ALIASES = 10**6
    fragments = ["fragment F0 on User { id }"]
    for level in range(1, 40):
        fragments.append(
            f"fragment F{level} on User {{ a: id ...F{level - 1} b: username ...F{level - 1} }}"
        )
    query = "{ viewer { ...F39 } }\n" + "\n".join(fragments)
    assert "QUERY_TOO_COMPLEX" in error_codes(query)  # 2**39 fields, computed in milliseconds


def test_page_size_from_variables_counts(settings: Any) -> None:
    settings.GRAPHQL_MAX_COST = 300  # 1 + n * (edges + node + 3 fields)
    query = "query($n: Int) { tasks(first: $n) { edges { node { id title status } } } }"
    assert error_codes(query, {"n": 100}) == ["QUERY_TOO_COMPLEX"]
    assert error_codes(query, {"n": 10}) == []


def test_introspection_depth_is_not_counted(settings: Any) -> None:
    settings.GRAPHQL_INTROSPECTION = True
    from graphql import get_introspection_query

    assert error_codes(get_introspection_query()) == []
