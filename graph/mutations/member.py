"""addProjectMember, removeProjectMember."""

from __future__ import annotations

from typing import Any

import graphene

from tasks import services

from ..context import viewer
from ..enums import Role, enum_value
from ..ids import decode_id, to_global_id
from ..types import Membership, Project
from .base import ServiceMutation, call_service, user_error_list


class AddProjectMemberInput(graphene.InputObjectType):
    """Who joins which project, with which role."""

    project_id = graphene.ID(required=True, description="The project's global ID.")
    username = graphene.String(required=True, description="The user's login name.")
    role = Role(required=True, description="ADMINs grant MEMBER or VIEWER; the OWNER any role.")


class AddProjectMember(ServiceMutation):
    """Adds a user to a project, or changes the role of a member (ADMIN or OWNER)."""

    class Meta:
        name = "AddProjectMemberPayload"

    class Arguments:
        input = AddProjectMemberInput(required=True, description="The member to add.")

    membership = graphene.Field(Membership, description="The new or changed membership.")
    project = graphene.Field(Project, description="The project, with its members.")
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
    """Who leaves which project."""

    project_id = graphene.ID(required=True, description="The project's global ID.")
    user_id = graphene.ID(required=True, description="The member's global ID (a `User` id).")


class RemoveProjectMember(ServiceMutation):
    """Removes a member (anyone may remove themselves: leaving)."""

    class Meta:
        name = "RemoveProjectMemberPayload"

    class Arguments:
        input = RemoveProjectMemberInput(required=True, description="The member to remove.")

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
