"""Attachments: list, multipart upload, get, delete and download. The bytes are judged by
`services.attachment_add` and leave the server only through `uploads.download_response`."""

from __future__ import annotations

from typing import Any

from django.http.response import HttpResponseBase
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from tasks import selectors, services
from tasks.api import inputs
from tasks.api.serializers import AttachmentSerializer
from tasks.api.uploads import parsed_form
from tasks.uploads import check_upload_size, download_response

from .base import ApiView


class TaskAttachmentListView(ApiView):
    output_serializer = AttachmentSerializer
    input_serializers = {"post": inputs.AttachmentUploadInput}
    parser_classes = [MultiPartParser]
    is_list = True
    page_numbers = True

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        attachments = selectors.task_attachments(request.user, pk).order_by("uploaded_at", "id")
        return self.render_page(attachments)

    def post(self, request: Request, pk: int, **kwargs: Any) -> Response:
        """Uploads a file (multipart, field `file`). 413 when it is over the size limit."""
        file = parsed_form(request).get("file")
        check_upload_size(request)
        attachment = services.attachment_add(actor=self.actor, task_id=pk, file=file, name=None)
        location = reverse(
            "api-attachment-detail",
            kwargs={"version": request.version, "pk": attachment.pk},
            request=request,
        )
        return self.render(attachment, 201, Location=location)


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

    def get(self, request: Request, pk: int, **kwargs: Any) -> HttpResponseBase:
        return download_response(selectors.attachment_get(request.user, pk), request)
