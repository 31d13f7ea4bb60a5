"""graphene-django as its docs optimise it: `DjangoObjectType`s, Relay connections, and the root
resolver joining and prefetching what the query reads (`select_related` / `Prefetch`)."""

from __future__ import annotations

from typing import Any

import graphene
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from graphene import relay
from graphene_django import DjangoConnectionField, DjangoObjectType
from graphql_relay import from_global_id

from tasks.models import Comment, Task


class User(DjangoObjectType):
    class Meta:
        model = get_user_model()
        interfaces = (relay.Node,)
        fields = ("id", "username")


class CommentNode(DjangoObjectType):
    class Meta:
        model = Comment
        name = "Comment"
        interfaces = (relay.Node,)
        fields = ("id", "body", "author")


class TaskNode(DjangoObjectType):
    comments = DjangoConnectionField(CommentNode)

    class Meta:
        model = Task
        name = "Task"
        interfaces = (relay.Node,)
        fields = ("id", "title", "status", "priority", "assignee", "comments")
        convert_choices_to_enum = True

    @staticmethod
    def resolve_comments(task: Task, info: Any, **kwargs: Any) -> Any:
        return task.comments.all()  # prefetched by the root resolver


class Query(graphene.ObjectType):
    tasks = DjangoConnectionField(TaskNode, project_id=graphene.ID(required=True))

    @staticmethod
    def resolve_tasks(root: Any, info: Any, project_id: str, **kwargs: Any) -> Any:
        return (
            Task.objects.filter(project_id=int(from_global_id(project_id)[1]))
            .select_related("assignee")
            .prefetch_related(
                Prefetch("comments", queryset=Comment.objects.select_related("author"))
            )
            .order_by("-created_at", "-id")
        )


schema = graphene.Schema(query=Query)
