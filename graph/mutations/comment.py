"""addComment, updateComment, deleteComment."""

from __future__ import annotations

from typing import Any

import graphene

from tasks import services

from ..context import viewer
from ..ids import decode_id, to_global_id
from ..types import Comment
from .base import call_service, user_error_list


class AddCommentInput(graphene.InputObjectType):
    task_id = graphene.ID(required=True)
    body = graphene.String(required=True)


class AddComment(graphene.Mutation):
    class Meta:
        name = "AddCommentPayload"

    class Arguments:
        input = AddCommentInput(required=True)

    comment = graphene.Field(Comment)
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
    id = graphene.ID(required=True)
    body = graphene.String(required=True)


class UpdateComment(graphene.Mutation):
    class Meta:
        name = "UpdateCommentPayload"

    class Arguments:
        input = UpdateCommentInput(required=True)

    comment = graphene.Field(Comment)
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
    id = graphene.ID(required=True)


class DeleteComment(graphene.Mutation):
    class Meta:
        name = "DeleteCommentPayload"

    class Arguments:
        input = DeleteCommentInput(required=True)

    deleted_id = graphene.ID()
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> DeleteComment:
        def run() -> dict[str, Any]:
            pk = services.comment_delete(
                actor=viewer(info), comment_id=decode_id(input["id"], "Comment")
            )
            return {"deleted_id": to_global_id("Comment", pk)}

        return DeleteComment(**call_service(run))
