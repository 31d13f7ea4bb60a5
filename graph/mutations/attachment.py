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
from .base import call_service, user_error_list


class UploadAttachmentInput(graphene.InputObjectType):
    task_id = graphene.ID(required=True)
    file = Upload(required=True)


class UploadAttachment(graphene.Mutation):
    """Attaches a file to a task. Send it as a multipart request (GraphQL multipart request
    spec); a request authenticated by a session cookie also needs `Apollo-Require-Preflight`
    or `X-CSRFToken`."""

    class Meta:
        name = "UploadAttachmentPayload"

    class Arguments:
        input = UploadAttachmentInput(required=True)

    attachment = graphene.Field(Attachment)
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
    id = graphene.ID(required=True)


class DeleteAttachment(graphene.Mutation):
    class Meta:
        name = "DeleteAttachmentPayload"

    class Arguments:
        input = DeleteAttachmentInput(required=True)

    deleted_id = graphene.ID()
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> DeleteAttachment:
        def run() -> dict[str, Any]:
            pk = services.attachment_delete(
                actor=viewer(info), attachment_id=decode_id(input["id"], "Attachment")
            )
            return {"deleted_id": to_global_id("Attachment", pk)}

        return DeleteAttachment(**call_service(run))
