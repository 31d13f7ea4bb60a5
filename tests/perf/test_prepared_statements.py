"""On PostgreSQL a statement the ORM runs a few times on one connection is prepared: parsed and
planned once per connection (DB_PREPARED_STATEMENTS, project/settings.py), with its parameters
bound server-side, and it still answers per its parameters."""

from __future__ import annotations

import pytest
from django.db import connection

from tasks.models import Task
from tests.factories import UserFactory, make_project

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _prepared(fragment: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall() if fragment in row[0]]


def test_a_statement_run_five_times_is_prepared_and_answers_per_its_parameters() -> None:
    project = make_project(UserFactory())
    tasks = [Task.objects.create(project=project, title=f"probe {i}") for i in range(7)]

    def title(task: Task) -> str:
        # A statement of this test's own (the LIKE), so no other test can have prepared it.
        rows = Task.objects.filter(pk=task.pk, title__startswith="probe ").values_list("title")
        return str(rows[0][0])

    assert [title(task) for task in tasks[:5]] == [f"probe {i}" for i in range(5)]
    assert _prepared("LIKE") == []
    assert [title(task) for task in tasks[5:]] == ["probe 5", "probe 6"]
    statements = _prepared("LIKE")
    assert len(statements) == 1
    assert "$1" in statements[0]  # bound server-side, not interpolated into its text
