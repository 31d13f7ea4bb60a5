"""DRF as its docs show: a `ModelSerializer` over a queryset with the relations it needs joined
(`select_related`), cursor pagination on the same ordering as TaskHub."""

from __future__ import annotations

from typing import Any

from graphql_relay import to_global_id
from rest_framework import generics, pagination, serializers
from rest_framework.renderers import JSONRenderer

from tasks.models import Task


class TaskSerializer(serializers.ModelSerializer[Task]):
    node_id = serializers.SerializerMethodField()
    project = serializers.IntegerField(source="project_id", read_only=True)
    assignee = serializers.IntegerField(source="assignee_id", read_only=True, allow_null=True)
    created_by = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = [
            "id", "node_id", "project", "title", "description", "status", "priority",
            "due_date", "assignee", "created_by", "created_at", "updated_at", "completed_at",
            "version",
        ]  # fmt: skip

    def get_node_id(self, task: Task) -> str:
        return to_global_id("Task", task.pk)


class Pagination(pagination.CursorPagination):
    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 100


class TaskList(generics.ListAPIView[Task]):
    """No authentication, permission or throttle: the peers carry none of the product's costs."""

    serializer_class = TaskSerializer
    pagination_class = Pagination
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()
    renderer_classes = (JSONRenderer,)

    def get_queryset(self) -> Any:
        return Task.objects.filter(project_id=int(self.request.GET["project"]))
