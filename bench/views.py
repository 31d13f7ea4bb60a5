"""The baseline: a hand-written view returning the same JSON as the GraphQL workload from
`values()` queries. Served only when BENCH_ENDPOINTS is on."""

from __future__ import annotations

from collections import defaultdict

from django.http import HttpRequest, JsonResponse
from graphql_relay import to_global_id

from project.auth import authenticate_token, bearer_from_header
from tasks.models import Comment, Membership, Task


def tasks_baseline(request: HttpRequest) -> JsonResponse:
    auth = authenticate_token(bearer_from_header(request.headers.get("Authorization")))
    if auth is None:
        return JsonResponse({"error": "unauthenticated"}, status=401)
    project_id = int(request.GET["project"])
    first = min(int(request.GET.get("first", "10")), 100)
    if not Membership.objects.filter(project_id=project_id, user_id=auth.user.pk).exists():
        return JsonResponse({"error": "not found"}, status=404)
    tasks = list(
        Task.objects.filter(project_id=project_id)
        .order_by("-created_at", "-id")
        .values("id", "title", "status", "priority", "assignee_id", "assignee__username")[:first]
    )
    comments: dict[int, list[dict[str, object]]] = defaultdict(list)
    rows = (
        Comment.objects.filter(task_id__in=[t["id"] for t in tasks])
        .order_by("task_id", "created_at", "id")
        .values("id", "task_id", "body", "author_id", "author__username")
    )
    for row in rows:
        bucket = comments[row["task_id"]]
        if len(bucket) < 5:
            bucket.append(
                {
                    "node": {
                        "id": to_global_id("Comment", row["id"]),
                        "body": row["body"],
                        "author": {
                            "id": to_global_id("User", row["author_id"]),
                            "username": row["author__username"],
                        },
                    }
                }
            )
    edges = [
        {
            "node": {
                "id": to_global_id("Task", t["id"]),
                "title": t["title"],
                "status": t["status"].upper(),
                "priority": t["priority"].upper(),
                "assignee": (
                    {
                        "id": to_global_id("User", t["assignee_id"]),
                        "username": t["assignee__username"],
                    }
                    if t["assignee_id"]
                    else None
                ),
                "comments": {"edges": comments[t["id"]]},
            }
        }
        for t in tasks
    ]
    return JsonResponse({"data": {"tasks": {"edges": edges}}})
