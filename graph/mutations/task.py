"""createTask, updateTask, deleteTask."""

from __future__ import annotations

from typing import Any

import graphene

from tasks import services

from ..context import loaders, viewer
from ..enums import TaskPriority, TaskStatus, enum_value
from ..ids import decode_id, decode_or_raw, to_global_id
from ..types import Task
from .base import call_service, user_error_list


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
    project_id = graphene.ID(required=True)
    title = graphene.String(required=True)
    description = graphene.String()
    status = TaskStatus()
    priority = TaskPriority()
    due_date = graphene.Date()
    assignee_id = graphene.ID()


class CreateTask(graphene.Mutation):
    class Meta:
        name = "CreateTaskPayload"

    class Arguments:
        input = CreateTaskInput(required=True)

    task = graphene.Field(Task)
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
    id = graphene.ID(required=True)
    expected_version = graphene.Int(
        description="The version you last saw; a newer task gives CONFLICT and changes nothing."
    )
    title = graphene.String()
    description = graphene.String()
    status = TaskStatus()
    priority = TaskPriority()
    due_date = graphene.Date()
    assignee_id = graphene.ID()


class UpdateTask(graphene.Mutation):
    class Meta:
        name = "UpdateTaskPayload"

    class Arguments:
        input = UpdateTaskInput(required=True)

    task = graphene.Field(Task)
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
    id = graphene.ID(required=True)
    expected_version = graphene.Int()


class DeleteTask(graphene.Mutation):
    class Meta:
        name = "DeleteTaskPayload"

    class Arguments:
        input = DeleteTaskInput(required=True)

    deleted_id = graphene.ID()
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
