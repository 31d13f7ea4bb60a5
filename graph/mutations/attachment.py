"""deleteAttachment (uploadAttachment arrives with the upload issue)."""

from __future__ import annotations

from typing import Any

import graphene

from tasks import services

from ..context import viewer
from ..ids import decode_id, to_global_id
from .base import call_service, user_error_list


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
