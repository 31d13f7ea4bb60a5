"""createProject, updateProject, deleteProject."""

from __future__ import annotations

from typing import Any

import graphene

from tasks import services

from ..context import viewer
from ..ids import decode_id, to_global_id
from ..types import Project
from .base import call_service, user_error_list


class CreateProjectInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    description = graphene.String()


class CreateProject(graphene.Mutation):
    class Meta:
        name = "CreateProjectPayload"

    class Arguments:
        input = CreateProjectInput(required=True)

    project = graphene.Field(Project)
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
    id = graphene.ID(required=True)
    name = graphene.String()
    description = graphene.String()


class UpdateProject(graphene.Mutation):
    class Meta:
        name = "UpdateProjectPayload"

    class Arguments:
        input = UpdateProjectInput(required=True)

    project = graphene.Field(Project)
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> UpdateProject:
        changes = {name: input[name] for name in ("name", "description") if name in input}

        def run() -> dict[str, Any]:
            project = services.project_update(
                actor=viewer(info), project_id=decode_id(input["id"], "Project"), changes=changes
            )
            return {"project": project}

        return UpdateProject(**call_service(run))


class DeleteProjectInput(graphene.InputObjectType):
    id = graphene.ID(required=True)


class DeleteProject(graphene.Mutation):
    class Meta:
        name = "DeleteProjectPayload"

    class Arguments:
        input = DeleteProjectInput(required=True)

    deleted_id = graphene.ID()
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> DeleteProject:
        def run() -> dict[str, Any]:
            pk = services.project_delete(
                actor=viewer(info), project_id=decode_id(input["id"], "Project")
            )
            return {"deleted_id": to_global_id("Project", pk)}

        return DeleteProject(**call_service(run))
