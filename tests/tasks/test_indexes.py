"""No index of the tasks app is a leading part of another on the same table: the longer one
serves every lookup the shorter one would, and each index is one more write per row
(tasks/migrations/0010_redundant_fk_indexes.py). Read from the database itself, on both backends,
so an index a migration leaves behind counts as much as a declared one."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> dict[str, dict[str, Any]]:
    """Indexes and unique constraints on plain columns (not expressions). PostgreSQL's `_like`
    indexes (Django's `varchar_pattern_ops` twin of an indexed text column) serve `LIKE`, which
    the plain one cannot."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: info
        for name, info in constraints.items()
        if (info["index"] or info["unique"])
        and not info["primary_key"]
        and info["columns"]
        and all(info["columns"])
        and not name.endswith("_like")
    }


def _redundant(table: str) -> list[tuple[str, str]]:
    found = _indexes(table)
    return sorted(
        (name, other)
        for name, info in found.items()
        if not info["unique"]
        for other, wider in found.items()
        if other != name
        and len(wider["columns"]) >= len(info["columns"])
        and wider["columns"][: len(info["columns"])] == info["columns"]
    )


def test_no_index_is_covered_by_another() -> None:
    tables = {model._meta.db_table for model in apps.get_app_config("tasks").get_models()}
    assert tables
    redundant = {table: _redundant(table) for table in sorted(tables)}
    assert {table: pairs for table, pairs in redundant.items() if pairs} == {}


def test_the_check_finds_a_covered_index() -> None:
    """The check above can fail: an index on a composite's leading column is reported."""
    with connection.cursor() as cursor:
        cursor.execute('CREATE INDEX "probe_task_project" ON "tasks_task" ("project_id")')
    assert ("probe_task_project", "task_project_created_idx") in _redundant("tasks_task")


def test_the_foreign_keys_still_constrain() -> None:
    """Dropping their indexes kept the foreign keys themselves."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "tasks_event")
    foreign = [info["foreign_key"] for info in constraints.values() if info["foreign_key"]]
    assert ("tasks_project", "id") in foreign
