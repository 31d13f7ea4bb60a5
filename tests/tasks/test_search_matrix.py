"""One search behaviour on every backend (tasks.search): this matrix runs on SQLite and, in CI's
second pass, on PostgreSQL, and asserts the exact same results, newest first, on both. GraphQL
`tasks(search:)` and REST `?search=` answer from the same selector; a few rows go through them."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client

from tasks import selectors, services
from tasks.models import Task
from tasks.selectors import TaskQuery, task_list
from tests.factories import make_project, make_task, make_token
from tests.graph.helpers import post

# Created in this order, so newest first is the reverse.
CORPUS = [
    ("PROJ-123 broken", "Login fails after the upgrade."),
    ("PROJ-1234 follow-up", ""),
    ("ws-29621e484d", "Socket session id"),
    ("Running the migrations", "On staging first"),
    ("Café menu", "Crème brûlée for the Éclair team"),
    ("Straße sign", "Fix the ﬁle naming"),  # ﬁ is the U+FB01 ligature
    ("Deploy the billing service", "100% of traffic, then roll_back if needed"),
    ("Weekly chores", "Check the deployment logs"),
    ("ÜBER important", ""),
]
EVERYTHING = [title for title, _ in reversed(CORPUS)]

MATRIX = [
    # ticket keys with hyphens: a prefix of a longer key matches it too
    ("PROJ-123", ["PROJ-1234 follow-up", "PROJ-123 broken"]),
    ("proj-1234", ["PROJ-1234 follow-up"]),
    ("PROJ-123 broken", ["PROJ-123 broken"]),
    ("ＰＲＯＪ－１２３４", ["PROJ-1234 follow-up"]),  # full-width forms fold to ASCII
    # hex ids, whole or any part, any case
    ("ws-29621e484d", ["ws-29621e484d"]),
    ("29621e", ["ws-29621e484d"]),
    ("621E48", ["ws-29621e484d"]),
    ("ws-", ["ws-29621e484d"]),
    # partial words (no stemming)
    ("Runn", ["Running the migrations"]),
    ("migrat", ["Running the migrations"]),
    # several words: all required, in any order, across title and description
    ("running migrations", ["Running the migrations"]),
    ("migrations running", ["Running the migrations"]),
    ("run staging", ["Running the migrations"]),
    ("run billing", []),
    ("broken login", ["PROJ-123 broken"]),
    # case- and accent-insensitive, both ways
    ("cafe", ["Café menu"]),
    ("CAFÉ", ["Café menu"]),
    ("creme brulee", ["Café menu"]),
    ("éclair", ["Café menu"]),
    ("uber", ["ÜBER important"]),
    ("über", ["ÜBER important"]),
    ("strasse", ["Straße sign"]),
    ("STRASSE", ["Straße sign"]),
    ("straße", ["Straße sign"]),
    ("file", ["Straße sign"]),
    ("ﬁle", ["Straße sign"]),
    # short words and common words: substring semantics, newest first
    ("deploy", ["Weekly chores", "Deploy the billing service"]),
    ("de", ["Weekly chores", "Deploy the billing service", "PROJ-123 broken"]),
    ("x", ["Straße sign"]),
    (
        "the",
        [
            "Weekly chores",
            "Deploy the billing service",
            "Straße sign",
            "Café menu",
            "Running the migrations",
            "PROJ-123 broken",
        ],
    ),
    # LIKE's wildcards are literal characters here
    ("100%", ["Deploy the billing service"]),
    ("%", ["Deploy the billing service"]),
    ("_", ["Deploy the billing service"]),
    ("roll_back", ["Deploy the billing service"]),
    ("roll%back", []),
    # nothing typed is no search; nonsense finds nothing and breaks nothing
    ("", EVERYTHING),
    ("   ", EVERYTHING),
    ("nothing-like-this", []),
    ("'; drop table tasks_task; --", []),
]


@pytest.fixture
def corpus(project: Any, owner: Any) -> dict[str, Task]:
    return {
        title: make_task(project, owner, title=title, description=description)
        for title, description in CORPUS
    }


def titles(actor: Any, **query: Any) -> list[str]:
    return [task.title for task in task_list(actor, TaskQuery(**query))]


@pytest.mark.parametrize(("text", "expected"), MATRIX, ids=[repr(text) for text, _ in MATRIX])
def test_search_matrix(corpus: Any, owner: Any, text: str, expected: list[str]) -> None:
    assert titles(owner, search=text) == expected


def test_search_keeps_an_explicit_order(corpus: Any, owner: Any) -> None:
    assert titles(owner, search="the", order_field="title", descending=False) == [
        "Café menu",
        "Deploy the billing service",
        "PROJ-123 broken",
        "Running the migrations",
        "Straße sign",
        "Weekly chores",
    ]


def test_search_is_scoped_to_what_the_actor_may_see(corpus: Any, owner: Any, outsider: Any):
    make_task(make_project(outsider, name="Elsewhere"), outsider, title="PROJ-123 elsewhere")
    assert titles(owner, search="PROJ-123") == ["PROJ-1234 follow-up", "PROJ-123 broken"]
    assert titles(outsider, search="PROJ-123") == ["PROJ-123 elsewhere"]


def test_an_update_is_searchable_by_its_new_text_only(corpus: Any, owner: Any) -> None:
    task = corpus["Weekly chores"]
    services.task_update(actor=owner, task_id=task.pk, changes={"title": "Monthly tidy-up"})
    assert titles(owner, search="weekly") == []
    assert titles(owner, search="tidy deployment") == ["Monthly tidy-up"]
    services.task_update(actor=owner, task_id=task.pk, changes={"description": "Naïve plan"})
    assert titles(owner, search="deployment") == []  # it was in the old description
    assert titles(owner, search="naive tidy") == ["Monthly tidy-up"]


def test_bulk_created_tasks_are_searchable(project: Any, owner: Any) -> None:
    Task.objects.bulk_create([Task(project=project, title="Bulk Élan", created_by=owner)])
    assert titles(owner, search="elan") == ["Bulk Élan"]


def test_the_migration_fills_the_column_for_existing_tasks(corpus: Any, owner: Any) -> None:
    Task.objects.update(search_text="")
    assert titles(owner, search="cafe") == []
    migration = importlib.import_module("tasks.migrations.0005_search_trigram")
    # The data step uses only the editor's connection (SQLite refuses a real editor inside the
    # test's transaction).
    migration.fill_search_text(django_apps, SimpleNamespace(connection=connection))
    assert titles(owner, search="cafe") == ["Café menu"]
    assert titles(owner, search="PROJ-123") == ["PROJ-1234 follow-up", "PROJ-123 broken"]


# --- The same rows through the transports -------------------------------------------------------

TRANSPORT_ROWS = [row for row in MATRIX if row[0] in {"PROJ-123", "Runn", "621E48", "creme brulee"}]

TASKS_QUERY = """query($search: String) {
  tasks(search: $search, first: 100) { edges { node { title } } }
}"""


@pytest.mark.parametrize(("text", "expected"), TRANSPORT_ROWS)
def test_rest_search_gives_the_matrix_answer(corpus: Any, owner: Any, text: str, expected: Any):
    client = Client(headers={"Authorization": f"Bearer {make_token(owner)}"})
    response = client.get("/api/v1/tasks/", {"search": text})
    assert response.status_code == 200, response.content
    assert [task["title"] for task in response.json()["results"]] == expected


@pytest.mark.parametrize(("text", "expected"), TRANSPORT_ROWS)
def test_graphql_search_gives_the_matrix_answer(corpus: Any, owner: Any, text: str, expected: Any):
    response = post(Client(), TASKS_QUERY, {"search": text}, token=make_token(owner))
    body = response.json()
    assert "errors" not in body, body
    assert [edge["node"]["title"] for edge in body["data"]["tasks"]["edges"]] == expected


# --- PostgreSQL: the index behind it --------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_answers_search_from_the_trigram_index(corpus: Any, owner: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tasks_task' "
            "AND indexname LIKE 'task_search%%'"
        )
        indexes = dict(cursor.fetchall())
    # 0002's English full-text index is gone; the trigram index is on the folded column.
    assert list(indexes) == ["task_search_trgm_idx"]
    assert "USING gin (search_text gin_trgm_ops)" in indexes["task_search_trgm_idx"]
    queryset = selectors.search_tasks(Task.objects.all(), "29621e")
    with connection.cursor() as cursor:
        # On a table this small the planner would rather scan; the index must still be usable.
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on task_search_trgm_idx" in plan, plan
