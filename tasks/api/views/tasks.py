"""Tasks: filtered, cursor-paginated, cached lists; conditional reads and writes."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from tasks import orderings, selectors, services
from tasks.api import caching, conditional, inputs
from tasks.api.filters import TaskFilterBackend, parse_ordering
from tasks.api.pagination import KeysetPagination
from tasks.api.serializers import TaskSerializer
from tasks.keyset import Ordering
from tasks.models import Task

from .base import ApiView


def _cached(response: Response, key: str | None, headers: dict[str, str] | None = None) -> Response:
    caching.put(key, response.data, headers or {})
    return response


class TaskListView(ApiView):
    output_serializer = TaskSerializer
    input_serializers = {"post": inputs.TaskCreateInput}
    filter_backends = [TaskFilterBackend]
    pagination_class = KeysetPagination
    is_list = True

    def get_queryset(self) -> Any:
        return Task.objects.none()  # the filter backend builds the list via selectors.task_list

    def get_keyset(self, request: Request) -> Ordering:
        field, descending = parse_ordering(request.query_params.get("ordering"))
        return orderings.task_ordering("rest:tasks", field, descending)

    def get(self, request: Request, **kwargs: Any) -> Response:
        key = caching.response_key(request)  # before reading the database: see caching.py
        hit = caching.get(key)
        if hit is not None:
            if "body" in hit:
                return caching.PrerenderedResponse(hit["body"], hit["headers"])
            return Response(hit["data"], headers=hit["headers"])
        response = self.render_page(self.filter_queryset(self.get_queryset()))
        renderer = request.accepted_renderer
        if type(renderer) is not JSONRenderer:  # the browsable pages render per request
            return _cached(response, key)
        context = self.get_renderer_context()
        body = renderer.render(response.data, request.accepted_media_type, context)
        caching.put_body(key, body, {})
        return caching.PrerenderedResponse(body, {})

    def post(self, request: Request, **kwargs: Any) -> Response:
        data = self.parse()
        project_id = data.pop("project")
        task = services.task_create(
            actor=self.actor, project_id=project_id, **inputs.task_changes(data)
        )
        location = reverse(
            "api-task-detail", kwargs={"version": request.version, "pk": task.pk}, request=request
        )
        return self.render(
            task, 201, Location=location, ETag=conditional.task_etag(task.pk, task.version)
        )


class TaskDetailView(ApiView):
    output_serializer = TaskSerializer
    input_serializers = {
        "put": inputs.TaskReplaceInput,
        "patch": inputs.TaskUpdateInput,
    }
    conditional = True

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        key = caching.response_key(request)
        hit = caching.get(key)
        if hit is None:
            task = selectors.task_get(request.user, pk)
            headers = {"ETag": conditional.task_etag(task.pk, task.version)}
            hit = {"data": self.get_serializer(task).data, "headers": headers}
            caching.put(key, hit["data"], headers)
        headers = hit["headers"]
        if conditional.not_modified(request.headers.get("If-None-Match"), headers["ETag"]):
            return Response(status=304, headers=headers)
        return Response(hit["data"], headers=headers)

    def put(self, request: Request, pk: int, **kwargs: Any) -> Response:
        data = {**inputs.TASK_DEFAULTS, **self._without_project(pk, self.parse())}
        return self._update(request, pk, inputs.task_changes(data))

    def patch(self, request: Request, pk: int, **kwargs: Any) -> Response:
        data = self._without_project(pk, self.parse(partial=True))
        return self._update(request, pk, inputs.task_changes(data))

    def _without_project(self, pk: int, data: dict[str, Any]) -> dict[str, Any]:
        """The body minus an echoed `project`, which must be the task's own (not found first)."""
        if "project" not in data:
            return data
        project_id = data.pop("project")
        if selectors.task_get(self.request.user, pk).project_id != project_id:
            raise ValidationError(
                {"project": [ErrorDetail("This field cannot be set.", "unknown_field")]}
            )
        return data

    def delete(self, request: Request, pk: int, **kwargs: Any) -> Response:
        expected = self._expected_version(request, pk)
        services.task_delete(actor=self.actor, task_id=pk, expected_version=expected)
        return Response(status=204)

    def _update(self, request: Request, pk: int, changes: dict[str, Any]) -> Response:
        expected = self._expected_version(request, pk)
        task = services.task_update(
            actor=self.actor, task_id=pk, changes=changes, expected_version=expected
        )
        return self.render(task, ETag=conditional.task_etag(task.pk, task.version))

    @staticmethod
    def _expected_version(request: Request, pk: int) -> int | None:
        if_match = request.headers.get("If-Match")
        if not if_match:
            return None
        task = selectors.task_get(request.user, pk)  # not found before precondition failed
        return conditional.expected_version(if_match, task.pk, task.version)
