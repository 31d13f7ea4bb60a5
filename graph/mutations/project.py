"""createProject, updateProject, deleteProject."""

from __future__ import annotations

from typing import Any

import graphene

from tasks import services

from ..context import viewer
from ..ids import decode_id, to_global_id
from ..types import Project
from .base import ServiceMutation, call_service, user_error_list

NAME = "1 to 120 characters; surrounding whitespace is stripped."
DESCRIPTION = "Up to 2,000 characters."


class CreateProjectInput(graphene.InputObjectType):
    """A new project."""

    name = graphene.String(required=True, description=NAME)
    description = graphene.String(description=DESCRIPTION)


class CreateProject(ServiceMutation):
    """Creates a project; you become its OWNER."""

    class Meta:
        name = "CreateProjectPayload"

    class Arguments:
        input = CreateProjectInput(required=True, description="The project to create.")

    project = graphene.Field(Project, description="The new project.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> CreateProject:
        def run() -> dict[str, Any]:
            project = services.project_create(
                actor=viewer(info), name=input["name"], description=input.get("description") or ""
            )
            return {"project": project}

        return CreateProject(**call_service(run))


class UpdateProjectInput(graphene.InputObjectType):
    """The fields to change; the ones left out keep their values."""

    id = graphene.ID(required=True, description="The project's global ID.")
    name = graphene.String(description=NAME)
    description = graphene.String(description=DESCRIPTION)


class UpdateProject(ServiceMutation):
    """Renames or describes a project (OWNER)."""

    class Meta:
        name = "UpdateProjectPayload"

    class Arguments:
        input = UpdateProjectInput(required=True, description="The project and its changes.")

    project = graphene.Field(Project, description="The project as changed.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> UpdateProject:
        changes: dict[str, Any] = {
            name: input[name] for name in ("name", "description") if name in input
        }

        def run() -> dict[str, Any]:
            project = services.project_update(
                actor=viewer(info), project_id=decode_id(input["id"], "Project"), changes=changes
            )
            return {"project": project}

        return UpdateProject(**call_service(run))


class DeleteProjectInput(graphene.InputObjectType):
    """The project to delete."""

    id = graphene.ID(required=True, description="The project's global ID.")


class DeleteProject(ServiceMutation):
    """Deletes a project with everything in it (OWNER)."""

    class Meta:
        name = "DeleteProjectPayload"

    class Arguments:
        input = DeleteProjectInput(required=True, description="The project to delete.")

    deleted_id = graphene.ID(description="The deleted project's global ID.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> DeleteProject:
        def run() -> dict[str, Any]:
            pk = services.project_delete(
                actor=viewer(info), project_id=decode_id(input["id"], "Project")
            )
            return {"deleted_id": to_global_id("Project", pk)}

        return DeleteProject(**call_service(run))
