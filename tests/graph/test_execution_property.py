"""Property: `FastExecutionContext` (graph/execution.py) gives the same `data` and `errors` as
graphql-core's own `ExecutionContext` for queries hypothesis-graphql generates from the served
schema, run against a seeded database (at least 200 per run)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from graphql import ExecutionContext, IntValueNode, StringValueNode, execute, parse
from graphql_relay import to_global_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from graph.execution import FastExecutionContext
from graph.schema import schema
from tasks import services
from tasks.models import Comment, Project, Task
from tests.factories import make_task

MIN_QUERIES = 200
_DATES = st.dates(datetime.date(2020, 1, 1), datetime.date(2030, 12, 31))
CUSTOM_SCALARS = {
    "Date": _DATES.map(lambda day: StringValueNode(value=day.isoformat())),
    "DateTime": st.datetimes(datetime.datetime(2020, 1, 1), datetime.datetime(2030, 1, 1)).map(
        lambda moment: StringValueNode(value=moment.isoformat() + "Z")
    ),
    "JSON": st.just(StringValueNode(value="{}")),
    "Upload": st.just(StringValueNode(value="")),
}


def _scalars_reaching_rows() -> dict[str, st.SearchStrategy[Any]]:
    """Arguments that find the seeded rows (real global ids, small page sizes, words of the
    titles) as well as ones that do not: random values alone almost only reach errors."""
    ids = [to_global_id("Task", pk) for pk in Task.objects.values_list("pk", flat=True)]
    ids += [to_global_id("Project", pk) for pk in Project.objects.values_list("pk", flat=True)]
    ids += [to_global_id("Comment", pk) for pk in Comment.objects.values_list("pk", flat=True)]
    ids += [
        to_global_id("User", pk) for pk in get_user_model().objects.values_list("pk", flat=True)
    ]
    ids += ["", "not an id", to_global_id("Task", 10**9)]
    return {
        **CUSTOM_SCALARS,
        "ID": st.sampled_from(ids).map(lambda value: StringValueNode(value=value)),
        "Int": st.integers(-1, 12).map(lambda value: IntValueNode(value=str(value))),
        "String": st.sampled_from(["Task", "Task 3", "Comment", "", "zz"]).map(
            lambda value: StringValueNode(value=value)
        ),
    }


@pytest.fixture
def seeded(project: Any, owner: Any, member: Any) -> Any:
    statuses = ["todo", "in_progress", "done"]
    priorities = ["low", "medium", "high", "urgent"]
    for index in range(8):
        task = make_task(
            project,
            owner,
            title=f"Task {index}",
            status=statuses[index % 3],
            priority=priorities[index % 4],
            assignee_id=member.pk if index % 2 else None,
            due_date=datetime.date(2026, 1, 1 + index) if index % 3 else None,
        )
        for number in range(index % 3):
            services.comment_add(actor=member, task_id=task.pk, body=f"Comment {number}")
    return owner


def _run(query: str, user: Any, context_class: type[ExecutionContext]) -> Any:
    request = RequestFactory().post("/graphql")
    request.user = user
    result = execute(
        schema.graphql_schema,
        parse(query),
        context_value=request,
        execution_context_class=context_class,
    )
    assert not hasattr(result, "__await__")
    return result.data, [error.formatted for error in result.errors or []]  # type: ignore[union-attr]


def _has_values(data: Any) -> bool:
    """Whether an answer holds any value read from a row: a leaf that is not null (`{"node": {}}`
    and `{"project": null}` do not count)."""
    if isinstance(data, dict):
        return any(_has_values(value) for value in data.values())
    if isinstance(data, list):
        return any(_has_values(value) for value in data)
    return data is not None


def test_fast_executor_answers_exactly_as_graphql_core(seeded: Any) -> None:
    ran: list[str] = []
    with_rows: list[str] = []  # answers that read seeded rows, not only errors and nulls

    @settings(
        max_examples=MIN_QUERIES + 25,
        deadline=None,
        database=None,
        derandomize=True,  # the same queries every run: a failure reproduces
        suppress_health_check=list(HealthCheck),
    )
    @given(query=queries(schema.graphql_schema, custom_scalars=_scalars_reaching_rows()))
    def same_answers(query: str) -> None:
        expected = _run(query, seeded, ExecutionContext)
        assert _run(query, seeded, FastExecutionContext) == expected, query
        ran.append(query)
        if _has_values(expected[0]):
            with_rows.append(query)

    same_answers()
    print(f"{len(ran)} generated queries, {len(with_rows)} read seeded rows")
    assert len(ran) >= MIN_QUERIES
    # 106 with the derandomized seed. It used to count answers holding "olivia" or "Task ", which
    # fell from 20 to 8 between two machines with the same seed, code and locked versions.
    assert len(with_rows) >= MIN_QUERIES // 4
