"""strawberry-django as its docs optimise it: typed models, Relay connections, and the
`DjangoOptimizerExtension` turning the selection into `select_related` / `prefetch_related`."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry
import strawberry_django
from django.contrib.auth import get_user_model
from strawberry import relay
from strawberry_django.optimizer import DjangoOptimizerExtension
from strawberry_django.relay import DjangoListConnection

from tasks import models

TaskStatus = strawberry.enum(models.Task.Status, name="TaskStatus")
TaskPriority = strawberry.enum(models.Task.Priority, name="TaskPriority")


@strawberry_django.type(get_user_model(), name="User")
class User(relay.Node):
    username: strawberry.auto


@strawberry_django.type(models.Comment, name="Comment")
class Comment(relay.Node):
    body: strawberry.auto
    author: User | None


@strawberry_django.type(models.Task, name="Task")
class Task(relay.Node):
    title: strawberry.auto
    status: TaskStatus  # type: ignore[valid-type]
    priority: TaskPriority  # type: ignore[valid-type]
    assignee: User | None
    comments: DjangoListConnection[Comment] = strawberry_django.connection()


@strawberry.type
class Query:
    @strawberry_django.connection(DjangoListConnection[Task])  # type: ignore[untyped-decorator]
    def tasks(self, project_id: strawberry.ID) -> Iterable[models.Task]:
        pk = int(relay.GlobalID.from_id(project_id).node_id)
        return models.Task.objects.filter(project_id=pk).order_by("-created_at", "-id")


schema = strawberry.Schema(query=Query, extensions=[DjangoOptimizerExtension])
