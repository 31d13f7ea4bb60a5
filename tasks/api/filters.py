"""Task list filters (API.md): django-filter validates and documents the query string, and
`selectors.task_list` (through a `TaskQuery`) is the single source of the query itself."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions
from rest_framework.request import Request

from tasks import selectors
from tasks.models import Task

MAX_ID = 2**31 - 1
ORDERINGS = sorted(selectors.ORDER_FIELDS)
ORDERING_CHOICES = [(name, name) for name in ORDERINGS] + [(f"-{n}", f"-{n}") for n in ORDERINGS]
DEFAULT_ORDERING = "-created_at"
# An empty `?due_before=` is a client bug, not "no filter": say so instead of ignoring it.
TYPED_PARAMS = (
    "project",
    "status",
    "priority",
    "assignee",
    "unassigned",
    "due_before",
    "due_after",
    "ordering",
)
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class IdFilter(django_filters.Filter):  # type: ignore[misc]
    field_class = forms.IntegerField


class StrictBooleanFilter(django_filters.Filter):  # type: ignore[misc]
    """`true`/`false` (or `1`/`0`); anything else is a 400 rather than silently ignored."""

    field_class = forms.TypedChoiceField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("choices", [("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")])
        kwargs.setdefault("coerce", lambda value: value in {"true", "1"})
        kwargs.setdefault("empty_value", None)
        super().__init__(*args, **kwargs)


def _typed(kind: Any, filter_: Any) -> Any:
    return extend_schema_field(kind)(filter_)


def _no_op(queryset: QuerySet[Task], name: str, value: Any) -> QuerySet[Task]:
    return queryset  # validation and documentation only; selectors.task_list does the work


class TaskFilterSet(django_filters.FilterSet):  # type: ignore[misc]
    project = _typed(
        OpenApiTypes.INT,
        IdFilter(min_value=1, max_value=MAX_ID, method=_no_op, help_text="Project id."),
    )
    status = django_filters.MultipleChoiceFilter(
        choices=Task.Status.choices, method=_no_op, help_text="Repeatable: any of these."
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=Task.Priority.choices, method=_no_op, help_text="Repeatable: any of these."
    )
    assignee = _typed(
        OpenApiTypes.INT,
        IdFilter(min_value=1, max_value=MAX_ID, method=_no_op, help_text="User id."),
    )
    unassigned = StrictBooleanFilter(method=_no_op, help_text="true: no assignee; false: any.")
    due_before = _typed(
        OpenApiTypes.DATE,
        django_filters.DateFilter(method=_no_op, help_text="Due strictly before."),
    )
    due_after = _typed(
        OpenApiTypes.DATE, django_filters.DateFilter(method=_no_op, help_text="Due strictly after.")
    )
    search = _typed(
        OpenApiTypes.STR,
        django_filters.CharFilter(
            method=_no_op, max_length=200, help_text="Words in the title or description."
        ),
    )
    ordering = django_filters.ChoiceFilter(
        choices=ORDERING_CHOICES,
        method=_no_op,
        help_text="Sort field, `-` for descending (default `-created_at`). "
        "Priority sorts by severity; nulls last.",
    )

    class Meta:
        model = Task
        fields: list[str] = []


def parse_ordering(value: str | None) -> tuple[str, bool]:
    value = value or DEFAULT_ORDERING
    return value.lstrip("-"), value.startswith("-")


FILTER_PARAMS = frozenset(TaskFilterSet.base_filters)


def plain_query(params: Any) -> selectors.TaskQuery | None:
    """The TaskQuery of the commonest list, `?project=<id>` or no filter at all, read without
    django-filter; None for anything else (the FilterSet then validates it). Building the
    FilterSet (a deep copy of its filters) and its form cost 15% of a REST task-list cache miss
    measured in-process with cProfile (bench/PROFILES.md). Only values the FilterSet takes
    unchanged are read here (ASCII digits within the id range), so the result is the same;
    tests/api/test_planned_representation.py compares the two."""
    present = FILTER_PARAMS.intersection(params)
    if not present:
        return selectors.TaskQuery()
    values = params.getlist("project") if present == {"project"} else []
    if len(values) != 1 or not (values[0].isascii() and values[0].isdigit()):
        return None
    project_id = int(values[0])
    return selectors.TaskQuery(project_id=project_id) if 1 <= project_id <= MAX_ID else None


def task_query(request: Request) -> selectors.TaskQuery:
    """The request's filters as a TaskQuery; bad values are a 400 with every field's problem."""
    plain = plain_query(request.query_params)
    return plain if plain is not None else filterset_query(request.query_params)


def filterset_query(params: Any) -> selectors.TaskQuery:
    """Any query string, validated by the FilterSet."""
    empty = [name for name in TYPED_PARAMS if any(value == "" for value in params.getlist(name))]
    if empty:
        raise exceptions.ValidationError({name: ["Must not be empty."] for name in empty})
    filterset = TaskFilterSet(data=params, queryset=Task.objects.none())
    if not filterset.is_valid():
        raise exceptions.ValidationError(
            {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        )
    data = filterset.form.cleaned_data
    search = data.get("search") or ""
    if "\x00" in search:
        raise exceptions.ValidationError({"search": ["Null characters are not allowed."]})
    order_field, descending = parse_ordering(data.get("ordering"))
    return selectors.TaskQuery(
        project_id=data.get("project"),
        statuses=tuple(data.get("status") or ()),
        priorities=tuple(data.get("priority") or ()),
        assignee_id=data.get("assignee"),
        unassigned=data.get("unassigned"),
        due_before=data.get("due_before"),
        due_after=data.get("due_after"),
        search=search or None,
        order_field=order_field,
        descending=descending,
    )


class TaskFilterBackend(DjangoFilterBackend):  # type: ignore[misc]
    """Builds the list through `selectors.task_list`; subclasses DjangoFilterBackend so the
    OpenAPI schema documents every filter from the FilterSet."""

    def get_filterset_class(self, view: Any, queryset: Any = None) -> type[TaskFilterSet]:
        return TaskFilterSet

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> QuerySet[Task]:
        tasks = selectors.task_list(request.user, task_query(request))
        if getattr(request, "version", None) == "v1":
            return tasks  # v1 shows the users' ids only: joining them built 2 unused models a row
        return tasks.select_related("assignee", "created_by")
