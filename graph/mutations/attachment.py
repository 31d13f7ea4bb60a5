"""uploadAttachment (a GraphQL multipart request), deleteAttachment."""

from __future__ import annotations

from typing import Any

import graphene

from tasks import services
from tasks.uploads import UploadTooLarge

from ..context import viewer
from ..ids import decode_id, to_global_id
from ..multipart import OVERSIZED_UPLOAD
from ..scalars import Upload
from ..types import Attachment
from .base import ServiceMutation, call_service, user_error_list


class UploadAttachmentInput(graphene.InputObjectType):
    """A file for a task."""

    task_id = graphene.ID(required=True, description="The task's global ID.")
    file = Upload(
        required=True, description="The file: null in `operations`, its part named in `map`."
    )


class UploadAttachment(ServiceMutation):
    """Attaches a file to a task. Send it as a multipart request (GraphQL multipart request
    spec); a request authenticated by a session cookie also needs `Apollo-Require-Preflight`
    or `X-CSRFToken`."""

    class Meta:
        name = "UploadAttachmentPayload"

    class Arguments:
        input = UploadAttachmentInput(required=True, description="The task and the file.")

    attachment = graphene.Field(Attachment, description="The stored file.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> UploadAttachment:
        def run() -> dict[str, Any]:
            task_id = decode_id(input["task_id"], "Task")
            file = input["file"]
            if file is OVERSIZED_UPLOAD:  # stopped while streaming, before the service saw it
                raise UploadTooLarge()
            attachment = services.attachment_add(actor=viewer(info), task_id=task_id, file=file)
            return {"attachment": attachment}

        return UploadAttachment(**call_service(run))


class DeleteAttachmentInput(graphene.InputObjectType):
    """The attachment to delete."""

    id = graphene.ID(required=True, description="The attachment's global ID.")


class DeleteAttachment(ServiceMutation):
    """Deletes an attachment and its file: its uploader may, as may ADMINs."""

    class Meta:
        name = "DeleteAttachmentPayload"

    class Arguments:
        input = DeleteAttachmentInput(required=True, description="The attachment to delete.")

    deleted_id = graphene.ID(description="The deleted attachment's global ID.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> DeleteAttachment:
        def run() -> dict[str, Any]:
            pk = services.attachment_delete(
                actor=viewer(info), attachment_id=decode_id(input["id"], "Attachment")
            )
            return {"deleted_id": to_global_id("Attachment", pk)}

        return DeleteAttachment(**call_service(run))
