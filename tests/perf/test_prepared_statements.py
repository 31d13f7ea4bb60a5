"""DB_PREPARED_STATEMENTS=1 (project/settings.py) on PostgreSQL: a statement run five times on
a connection is then prepared, parsed and planned once per connection, with its parameters bound
server-side, and it still answers per its parameters. Checked on a connection of its own with
exactly the OPTIONS the setting adds, next to the suite's default one (client-side binding)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper

from tasks.models import Task
from tests.factories import UserFactory, make_project

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def prepared_connection() -> Iterator[Any]:
    settings = dict(connection.settings_dict)
    options = {k: v for k, v in settings["OPTIONS"].items() if k != "pool"}
    settings["OPTIONS"] = {**options, "server_side_binding": True, "prepare_threshold": 5}
    other = DatabaseWrapper(settings, alias="prepared-probe")
    connections["prepared-probe"] = other  # django.contrib.postgres looks it up by alias
    yield other
    other.close()
    del connections["prepared-probe"]


def _prepared(conn: Any) -> list[str]:
    with conn.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_statement_run_five_times_is_prepared_and_answers_per_its_parameters(
    prepared_connection: Any,
) -> None:
    project = make_project(UserFactory())
    tasks = [Task.objects.create(project=project, title=f"probe {i}") for i in range(7)]
    query = 'SELECT title FROM "tasks_task" WHERE id = %s AND title LIKE %s'

    def title(conn: Any, task: Task) -> str:
        with conn.cursor() as cursor:
            cursor.execute(query, [task.pk, "probe %"])
            return str(cursor.fetchone()[0])

    assert [title(prepared_connection, task) for task in tasks[:5]] == [
        f"probe {i}" for i in range(5)
    ]
    assert not [s for s in _prepared(prepared_connection) if "LIKE" in s]
    assert [title(prepared_connection, task) for task in tasks[5:]] == ["probe 5", "probe 6"]
    statements = [s for s in _prepared(prepared_connection) if "LIKE" in s]
    assert len(statements) == 1
    assert "$1" in statements[0]  # bound server-side, not interpolated into its text

    # The default connection (Django's own default) prepares nothing.
    for task in tasks:
        title(connection, task)
    assert not [s for s in _prepared(connection) if "LIKE" in s]
