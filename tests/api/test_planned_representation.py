"""The REST task list's shortcuts answer exactly what the general path answers:
`PlannedRepresentation` (tasks/api/serializers.py) what DRF's generic
`Serializer.to_representation` answers, for every kind of value a task holds, in any time zone;
`filters.plain_query` what the FilterSet makes of the same query string."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.utils import timezone
from rest_framework import serializers

from tasks.api.serializers import PlannedRepresentation, TaskSerializer
from tasks.models import Task
from tests.factories import make_task


@pytest.fixture
def tasks(project: Any, owner: Any, member: Any) -> list[Task]:
    made = [
        make_task(project, owner, title="Plain"),
        make_task(
            project,
            owner,
            title="Ünïcode\u2028",
            assignee_id=member.pk,
            due_date=date(2030, 1, 5),
            priority="urgent",
        ),
        make_task(project, member, title="Done", status="done", description="x" * 50),
    ]
    Task.objects.filter(pk=made[0].pk).update(completed_at=datetime(2031, 2, 3, 4, 5, 6, 7, UTC))
    return list(Task.objects.filter(project=project).order_by("id"))


def _generic(instance: Any) -> dict[str, Any]:
    return serializers.Serializer.to_representation(TaskSerializer(), instance)  # type: ignore[arg-type]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
def test_the_planned_output_is_drfs_output(tasks: list[Task], zone: str) -> None:
    assert issubclass(TaskSerializer, PlannedRepresentation)
    with timezone.override(zone):
        planned = TaskSerializer(tasks, many=True).data
        generic = [_generic(task) for task in tasks]
    assert [dict(row) for row in planned] == generic
    assert {type(v) for row in planned for v in row.values()} <= {int, str, type(None)}
    assert any(row["completed_at"] for row in planned) and any(row["due_date"] for row in planned)


def test_fields_it_does_not_plan_take_drfs_path(tasks: list[Task]) -> None:
    class WithExtras(TaskSerializer):
        assignee_name = serializers.CharField(source="assignee.username", default=None)
        shout = serializers.SerializerMethodField()

        class Meta(TaskSerializer.Meta):
            fields = [*TaskSerializer.Meta.fields, "assignee_name", "shout"]

        def get_shout(self, task: Task) -> str:
            return task.title.upper()

    rows = WithExtras(tasks, many=True).data
    assert [row["shout"] for row in rows] == [task.title.upper() for task in tasks]
    assert [row["assignee_name"] for row in rows] == [None, "mia", None]


@pytest.mark.parametrize(
    "query",
    ["", "project=12", "project=007", "project=2147483647", "page_size=5&project=3&cursor=x",
     "project=0", "project=2147483648", "project=%EF%BC%91", "project=1&project=2",
     "project=+1", "project=1&status=todo", "ordering=title", "project=", "project=1.0"],
)  # fmt: skip
def test_the_plain_query_is_the_filtersets_query(query: str) -> None:
    from django.http import QueryDict
    from rest_framework.exceptions import ValidationError

    from tasks.api import filters

    params = QueryDict(query)
    plain = filters.plain_query(params)
    try:
        full: Any = filters.filterset_query(params)
    except ValidationError:
        full = "invalid"
    plain_ones = {
        "",
        "project=12",
        "project=007",
        "project=2147483647",
        "page_size=5&project=3&cursor=x",
    }
    assert (plain is not None) == (query in plain_ones)  # anything else: the FilterSet decides
    if plain is not None:
        assert plain == full
