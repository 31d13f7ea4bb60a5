"""createTask, updateTask, deleteTask."""

from __future__ import annotations

from typing import Any

import graphene

from tasks import services

from ..context import loaders, viewer
from ..enums import TaskPriority, TaskStatus, enum_value
from ..ids import decode_id, decode_or_raw, to_global_id
from ..types import Task
from .base import ServiceMutation, call_service, user_error_list

TITLE = "1 to 200 characters; surrounding whitespace is stripped."
DESCRIPTION = "Up to 10,000 characters."
ASSIGNEE = "A member of the project (a user's global ID)."


def _task_fields(input: dict[str, Any]) -> dict[str, Any]:
    """The service's field names for the input's given fields (an explicit null clears)."""
    fields: dict[str, Any] = {}
    for name in ("title", "description", "due_date"):
        if name in input:
            fields[name] = input[name]
    for name in ("status", "priority"):
        if name in input:
            fields[name] = enum_value(input[name])
    if "assignee_id" in input:
        fields["assignee_id"] = decode_or_raw(input["assignee_id"], "User")
    return fields


class CreateTaskInput(graphene.InputObjectType):
    """A new task."""

    project_id = graphene.ID(required=True, description="The project's global ID.")
    title = graphene.String(required=True, description=TITLE)
    description = graphene.String(description=DESCRIPTION)
    status = TaskStatus(description="TODO unless given.")
    priority = TaskPriority(description="MEDIUM unless given.")
    due_date = graphene.Date(description="The day it is due, if any.")
    assignee_id = graphene.ID(description=ASSIGNEE)


class CreateTask(ServiceMutation):
    """Creates a task (MEMBER or above)."""

    class Meta:
        name = "CreateTaskPayload"

    class Arguments:
        input = CreateTaskInput(required=True, description="The task to create.")

    task = graphene.Field(Task, description="The new task.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> CreateTask:
        fields = {name: value for name, value in _task_fields(input).items() if value is not None}

        def run() -> dict[str, Any]:
            task = services.task_create(
                actor=viewer(info), project_id=decode_id(input["project_id"], "Project"), **fields
            )
            loaders(info).saw_tasks([task])
            return {"task": task}

        return CreateTask(**call_service(run))


class UpdateTaskInput(graphene.InputObjectType):
    """The fields to change; the ones left out keep their values, an explicit null clears."""

    id = graphene.ID(required=True, description="The task's global ID.")
    expected_version = graphene.Int(
        description="The version you last saw; a newer task gives CONFLICT and changes nothing."
    )
    title = graphene.String(description=TITLE)
    description = graphene.String(description=DESCRIPTION)
    status = TaskStatus(description="DONE sets `completedAt`; leaving DONE clears it.")
    priority = TaskPriority(description="How urgent it is.")
    due_date = graphene.Date(description="The day it is due; null clears it.")
    assignee_id = graphene.ID(description=ASSIGNEE + " Null unassigns.")


class UpdateTask(ServiceMutation):
    """Changes a task (MEMBER or above); its `version` grows by one."""

    class Meta:
        name = "UpdateTaskPayload"

    class Arguments:
        input = UpdateTaskInput(required=True, description="The task and its changes.")

    task = graphene.Field(Task, description="The task as changed.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> UpdateTask:
        def run() -> dict[str, Any]:
            task = services.task_update(
                actor=viewer(info),
                task_id=decode_id(input["id"], "Task"),
                changes=_task_fields(input),
                expected_version=input.get("expected_version"),
            )
            loaders(info).saw_tasks([task])
            return {"task": task}

        return UpdateTask(**call_service(run))


class DeleteTaskInput(graphene.InputObjectType):
    """The task to delete."""

    id = graphene.ID(required=True, description="The task's global ID.")
    expected_version = graphene.Int(
        description="The version you last saw; a newer task gives CONFLICT and is kept."
    )


class DeleteTask(ServiceMutation):
    """Deletes a task with its comments and attachments: its creator may, as may ADMINs."""

    class Meta:
        name = "DeleteTaskPayload"

    class Arguments:
        input = DeleteTaskInput(required=True, description="The task to delete.")

    deleted_id = graphene.ID(description="The deleted task's global ID.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> DeleteTask:
        def run() -> dict[str, Any]:
            pk = services.task_delete(
                actor=viewer(info),
                task_id=decode_id(input["id"], "Task"),
                expected_version=input.get("expected_version"),
            )
            return {"deleted_id": to_global_id("Task", pk)}

        return DeleteTask(**call_service(run))
