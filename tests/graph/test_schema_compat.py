"""The public schema only ever gains: the served schema against the schema clients were built on
(`fixtures/schema_baseline.graphql`, the committed SDL before the move to graphene-django).

graphql-core's `find_breaking_changes` lists what breaks an existing client (a removed type,
field, argument or enum value, a changed type, a new required argument...), and
`find_dangerous_changes` what may change an existing client's results (a new enum value, a
changed default, an optional argument added to a field, ...)."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    BreakingChangeType,
    DangerousChangeType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    print_schema,
)

from graph.schema import schema

BASELINE = Path(__file__).parent / "fixtures" / "schema_baseline.graphql"

# Dangerous changes a client of the baseline tolerates. An optional argument only applies when a
# client sends it; nothing else (a new enum value, an implemented interface, a changed default
# value) is accepted without a look.
ACCEPTED_DANGEROUS = frozenset({DangerousChangeType.OPTIONAL_ARG_ADDED})


def served() -> GraphQLSchema:
    """The served schema as clients see it: rebuilt from its SDL, like the fixture."""
    return build_schema(print_schema(schema.graphql_schema))


def baseline() -> GraphQLSchema:
    return build_schema(BASELINE.read_text())


def test_no_breaking_change_against_the_baseline() -> None:
    changes = find_breaking_changes(baseline(), served())
    assert not changes, "\n".join(f"{c.type.name}: {c.description}" for c in changes)


def test_only_accepted_dangerous_changes_against_the_baseline() -> None:
    changes = [
        change
        for change in find_dangerous_changes(baseline(), served())
        if change.type not in ACCEPTED_DANGEROUS
    ]
    assert not changes, "\n".join(f"{c.type.name}: {c.description}" for c in changes)


def test_the_comparison_catches_a_removed_field_and_a_new_enum_value() -> None:
    """The checks above would fail on a schema that broke or changed the contract."""
    old = baseline()
    sdl = BASELINE.read_text()
    broken = build_schema(sdl.replace("  commentCount: Int!\n", "", 1))
    assert [c.type for c in find_breaking_changes(old, broken)] == [
        BreakingChangeType.FIELD_REMOVED
    ]
    widened = build_schema(sdl.replace("enum TaskStatus {\n", "enum TaskStatus {\n  BLOCKED\n", 1))
    assert [c.type for c in find_dangerous_changes(old, widened)] == [
        DangerousChangeType.VALUE_ADDED_TO_ENUM
    ]


def test_the_baseline_fixture_is_the_pre_migration_schema() -> None:
    """The fixture is frozen: every type of it is still served (none was renamed away)."""
    assert set(baseline().type_map) <= set(served().type_map)
