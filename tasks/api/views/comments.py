"""Comments on tasks."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from tasks import selectors, services
from tasks.api import inputs
from tasks.api.serializers import CommentSerializer

from .base import ApiView


class TaskCommentListView(ApiView):
    output_serializer = CommentSerializer
    input_serializers = {"post": inputs.CommentInput}
    is_list = True
    page_numbers = True

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.render_page(
            selectors.task_comments(request.user, pk).order_by("created_at", "id")
        )

    def post(self, request: Request, pk: int, **kwargs: Any) -> Response:
        comment = services.comment_add(actor=self.actor, task_id=pk, **self.parse())
        location = reverse(
            "api-comment-detail",
            kwargs={"version": request.version, "pk": comment.pk},
            request=request,
        )
        return self.render(comment, 201, Location=location)


class CommentDetailView(ApiView):
    output_serializer = CommentSerializer
    input_serializers = {"patch": inputs.CommentInput}

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.render(selectors.comment_get(request.user, pk))

    def patch(self, request: Request, pk: int, **kwargs: Any) -> Response:
        comment = services.comment_update(actor=self.actor, comment_id=pk, **self.parse())
        return self.render(comment)

    def delete(self, request: Request, pk: int, **kwargs: Any) -> Response:
        services.comment_delete(actor=self.actor, comment_id=pk)
        return Response(status=204)
