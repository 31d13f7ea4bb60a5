"""Attachments: list, get, delete and download. The multipart upload (POST on
`tasks/{id}/attachments/`) arrives with the upload issue; until then that POST answers 405."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from tasks import selectors, services
from tasks.api.serializers import AttachmentSerializer

from .base import ApiView


class TaskAttachmentListView(ApiView):
    # UPLOAD HOOK: add `post` here (MultiPartParser, file in field `file`) for the upload issue.
    output_serializer = AttachmentSerializer
    is_list = True
    page_numbers = True

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        attachments = selectors.task_attachments(request.user, pk).order_by("uploaded_at", "id")
        return self.render_page(attachments)


class AttachmentDetailView(ApiView):
    output_serializer = AttachmentSerializer

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.render(selectors.attachment_get(request.user, pk))

    def delete(self, request: Request, pk: int, **kwargs: Any) -> Response:
        services.attachment_delete(actor=self.actor, attachment_id=pk)
        return Response(status=204)


class AnyMediaRenderer(JSONRenderer):
    """Lets a download be asked for with any `Accept`; errors still render as JSON problems."""

    media_type = "*/*"
    format = "download"


class AttachmentDownloadView(ApiView):
    output_serializer = AttachmentSerializer
    renderer_classes = [JSONRenderer, AnyMediaRenderer]
    binary_response = True

    def get(self, request: Request, pk: int, **kwargs: Any) -> FileResponse:
        attachment = selectors.attachment_get(request.user, pk)
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, ValueError):
            raise exceptions.NotFound("The attachment's file is missing.") from None
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.name,
            content_type=attachment.content_type or "application/octet-stream",
        )
        # Never let a browser render an uploaded file as a page of this origin.
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return response
