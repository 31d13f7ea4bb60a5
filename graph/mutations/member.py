"""addProjectMember, removeProjectMember."""

from __future__ import annotations

from typing import Any

import graphene

from tasks import services

from ..context import viewer
from ..enums import Role, enum_value
from ..ids import decode_id, to_global_id
from ..types import Membership, Project
from .base import call_service, user_error_list


class AddProjectMemberInput(graphene.InputObjectType):
    project_id = graphene.ID(required=True)
    username = graphene.String(required=True)
    role = Role(required=True)


class AddProjectMember(graphene.Mutation):
    """Adds a user to a project, or changes the role of a member."""

    class Meta:
        name = "AddProjectMemberPayload"

    class Arguments:
        input = AddProjectMemberInput(required=True)

    membership = graphene.Field(Membership)
    project = graphene.Field(Project)
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> AddProjectMember:
        def run() -> dict[str, Any]:
            membership = services.member_add(
                actor=viewer(info),
                project_id=decode_id(input["project_id"], "Project"),
                username=input["username"],
                role=enum_value(input["role"]),
            )
            return {"membership": membership, "project": membership.project}

        return AddProjectMember(**call_service(run))


class RemoveProjectMemberInput(graphene.InputObjectType):
    project_id = graphene.ID(required=True)
    user_id = graphene.ID(required=True)


class RemoveProjectMember(graphene.Mutation):
    """Removes a member (anyone may remove themselves: leaving)."""

    class Meta:
        name = "RemoveProjectMemberPayload"

    class Arguments:
        input = RemoveProjectMemberInput(required=True)

    membership = graphene.Field(Membership, description="The membership that was removed.")
    deleted_id = graphene.ID(description="The removed user's ID.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> RemoveProjectMember:
        def run() -> dict[str, Any]:
            user_id = decode_id(input["user_id"], "User")
            membership = services.member_remove(
                actor=viewer(info),
                project_id=decode_id(input["project_id"], "Project"),
                user_id=user_id,
            )
            return {"membership": membership, "deleted_id": to_global_id("User", user_id)}

        return RemoveProjectMember(**call_service(run))
