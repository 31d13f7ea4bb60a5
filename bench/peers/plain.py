"""The floor: plain Django views, `values()` and `JsonResponse`, no middleware, no authentication.
Each answers exactly what TaskHub answers for the same workload."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from graphql_relay import to_global_id

from tasks.models import Comment, Task

REST_FIELDS = (
    "id", "project_id", "title", "description", "status", "priority", "due_date",
    "assignee_id", "created_by_id", "created_at", "updated_at", "completed_at", "version",
)  # fmt: skip


def graphql_tasks(request: HttpRequest) -> JsonResponse:
    """The GraphQL workload's answer: a page of tasks with assignee and 5 comments with authors."""
    project_id = int(request.GET["project"])
    first = min(int(request.GET.get("first", "10")), 100)
    tasks = list(
        Task.objects.filter(project_id=project_id)
        .order_by("-created_at", "-id")
        .values("id", "title", "status", "priority", "assignee_id", "assignee__username")[:first]
    )
    comments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        Comment.objects.filter(task_id__in=[task["id"] for task in tasks])
        .order_by("task_id", "created_at", "id")
        .values("id", "task_id", "body", "author_id", "author__username")
    )
    for row in rows:
        bucket = comments[row["task_id"]]
        if len(bucket) < 5:
            author = _user(row["author_id"], row["author__username"])
            bucket.append({"node": {"id": _gid("Comment", row["id"]), "body": row["body"],
                                    "author": author}})  # fmt: skip
    edges = [
        {
            "node": {
                "id": _gid("Task", task["id"]),
                "title": task["title"],
                "status": task["status"].upper(),
                "priority": task["priority"].upper(),
                "assignee": _user(task["assignee_id"], task["assignee__username"]),
                "comments": {"edges": comments[task["id"]]},
            }
        }
        for task in tasks
    ]
    return JsonResponse({"data": {"tasks": {"edges": edges}}})


def rest_tasks(request: HttpRequest) -> JsonResponse:
    """REST v1's task list page (`results` only: cursors are TaskHub's own)."""
    project_id = int(request.GET["project"])
    size = min(int(request.GET.get("page_size", "25")), 100)
    rows = (
        Task.objects.filter(project_id=project_id)
        .order_by("-created_at", "-id")
        .values(*REST_FIELDS)[:size]
    )
    results = [
        {
            "id": row["id"],
            "node_id": _gid("Task", row["id"]),
            "project": row["project_id"],
            "title": row["title"],
            "description": row["description"],
            "status": row["status"],
            "priority": row["priority"],
            "due_date": _iso(row["due_date"]),
            "assignee": row["assignee_id"],
            "created_by": row["created_by_id"],
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]),
            "completed_at": _iso(row["completed_at"]),
            "version": row["version"],
        }
        for row in rows
    ]
    return JsonResponse({"results": results})


def _user(pk: int | None, username: str | None) -> dict[str, Any] | None:
    return None if pk is None else {"id": _gid("User", pk), "username": username}


def _gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


def _iso(value: date | datetime | None) -> str | None:
    """As DRF renders dates and times (ISO 8601, `Z` for UTC)."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
