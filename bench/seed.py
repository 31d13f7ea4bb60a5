"""A deterministic data set: one project, 2,000 tasks, 5 comments each, 20 members."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from tasks.models import Comment, Membership, Project, Role, Task

TASKS = 2000
COMMENTS_PER_TASK = 5
MEMBERS = 20


@transaction.atomic
def seed(*, tasks: int = TASKS) -> tuple[int, str]:
    """Creates the data set (idempotent: wipes a previous one). Returns (project id, token)."""
    User = get_user_model()
    Project.objects.filter(name="bench").delete()
    User.objects.filter(username__startswith="bench-").delete()
    users = User.objects.bulk_create(
        [
            User(username=f"bench-{i:02d}", first_name="Bench", last_name=str(i))
            for i in range(MEMBERS)
        ]
    )
    users = list(User.objects.filter(username__startswith="bench-").order_by("username"))
    owner = users[0]
    project = Project.objects.create(name="bench", description="benchmark data", created_by=owner)
    Membership.objects.bulk_create(
        [
            Membership(project=project, user=user, role=Role.OWNER if i == 0 else Role.MEMBER)
            for i, user in enumerate(users)
        ]
    )
    statuses = list(Task.Status.values)
    priorities = list(Task.Priority.values)
    Task.objects.bulk_create(
        [
            Task(
                project=project,
                title=f"Task {i}: benchmark the system",
                description="Lorem ipsum dolor sit amet " * 4,
                status=statuses[i % 3],
                priority=priorities[i % 4],
                due_date=date(2026, 1, 1) + timedelta(days=i % 90) if i % 5 else None,
                assignee=users[i % MEMBERS] if i % 7 else None,
                created_by=owner,
            )
            for i in range(tasks)
        ],
        batch_size=500,
    )
    task_ids = list(Task.objects.filter(project=project).values_list("id", flat=True))
    Comment.objects.bulk_create(
        [
            Comment(task_id=task_id, author=users[(task_id + j) % MEMBERS], body=f"Comment {j}")
            for task_id in task_ids
            for j in range(COMMENTS_PER_TASK)
        ],
        batch_size=1000,
    )
    Application = get_application_model()
    application, _ = Application.objects.get_or_create(
        name="bench",
        defaults={
            "user": owner,
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
        },
    )
    raw = secrets.token_urlsafe(30)
    get_access_token_model().objects.create(
        user=owner,
        application=application,
        token=raw,
        expires=timezone.now() + timedelta(days=1),
        scope="read write",
    )
    return project.pk, raw


def compact() -> None:
    """Reclaims what earlier runs left behind, so that every run measures the same physical
    database: `seed` deletes the previous data set, and the fan-out rows rewrite one task's row
    hundreds of times a run. Without it, runs on one PostgreSQL database slowed down run after
    run (measured: GraphQL `tasks(first: 10)` 161-165 req/s on a fresh database, 113-121 req/s
    after a day of runs on the same one).

    PostgreSQL also gets the planner statistics that autovacuum would give the freshly seeded
    tables a minute later anyway (`VACUUM ANALYZE`). SQLite gets `VACUUM` only, as nothing in a
    deployment runs `ANALYZE` on it: the bench measures the database users have."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "VACUUM")
