"""addComment, updateComment, deleteComment."""

from __future__ import annotations

from typing import Any

import graphene

from tasks import services

from ..context import viewer
from ..ids import decode_id, to_global_id
from ..types import Comment
from .base import ServiceMutation, call_service, user_error_list

BODY = "1 to 5,000 characters; surrounding whitespace is stripped."


class AddCommentInput(graphene.InputObjectType):
    """A new comment."""

    task_id = graphene.ID(required=True, description="The task's global ID.")
    body = graphene.String(required=True, description=BODY)


class AddComment(ServiceMutation):
    """Comments on a task (MEMBER or above)."""

    class Meta:
        name = "AddCommentPayload"

    class Arguments:
        input = AddCommentInput(required=True, description="The comment to add.")

    comment = graphene.Field(Comment, description="The new comment.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> AddComment:
        def run() -> dict[str, Any]:
            comment = services.comment_add(
                actor=viewer(info), task_id=decode_id(input["task_id"], "Task"), body=input["body"]
            )
            return {"comment": comment}

        return AddComment(**call_service(run))


class UpdateCommentInput(graphene.InputObjectType):
    """A comment's new text."""

    id = graphene.ID(required=True, description="The comment's global ID.")
    body = graphene.String(required=True, description=BODY)


class UpdateComment(ServiceMutation):
    """Edits a comment (its author only); sets `editedAt`."""

    class Meta:
        name = "UpdateCommentPayload"

    class Arguments:
        input = UpdateCommentInput(required=True, description="The comment and its new text.")

    comment = graphene.Field(Comment, description="The comment as edited.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> UpdateComment:
        def run() -> dict[str, Any]:
            comment = services.comment_update(
                actor=viewer(info), comment_id=decode_id(input["id"], "Comment"), body=input["body"]
            )
            return {"comment": comment}

        return UpdateComment(**call_service(run))


class DeleteCommentInput(graphene.InputObjectType):
    """The comment to delete."""

    id = graphene.ID(required=True, description="The comment's global ID.")


class DeleteComment(ServiceMutation):
    """Deletes a comment: its author may, as may ADMINs."""

    class Meta:
        name = "DeleteCommentPayload"

    class Arguments:
        input = DeleteCommentInput(required=True, description="The comment to delete.")

    deleted_id = graphene.ID(description="The deleted comment's global ID.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> DeleteComment:
        def run() -> dict[str, Any]:
            pk = services.comment_delete(
                actor=viewer(info), comment_id=decode_id(input["id"], "Comment")
            )
            return {"deleted_id": to_global_id("Comment", pk)}

        return DeleteComment(**call_service(run))
