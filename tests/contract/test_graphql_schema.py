"""The served GraphQL schema, read by introspection from the live server with a real client,
against API.md's names and types and against the committed `schema.graphql`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLSchema,
    print_schema,
    print_type,
)

from tests.e2e.graphql_client import client_for
from tests.factories import make_token

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(asgi_server: Any, owner: Any, settings: Any) -> GraphQLSchema:
    settings.GRAPHQL_INTROSPECTION = True
    client = client_for(asgi_server, make_token(owner, "read"))
    client.fetch_schema_from_transport = True
    with client:
        assert client.schema is not None
        return client.schema


def signature(schema: GraphQLSchema, type_name: str, field: str) -> str:
    """`name(arg: Type, ...): Type` of one field, as API.md writes it."""
    definition = schema.get_type(type_name).fields[field]  # type: ignore[union-attr]
    args = ", ".join(f"{name}: {arg.type}" for name, arg in definition.args.items())
    return f"{field}({args}): {definition.type}" if args else f"{field}: {definition.type}"


def fields(schema: GraphQLSchema, type_name: str) -> set[str]:
    return set(schema.get_type(type_name).fields)  # type: ignore[union-attr]


def test_committed_sdl_equals_the_served_schema(served: GraphQLSchema) -> None:
    committed = (ROOT / "schema.graphql").read_text().strip()
    assert print_schema(served).strip() == committed


def test_query_root_signatures(served: GraphQLSchema) -> None:
    page = "first: Int, after: String, last: Int, before: String"
    task_args = "filter: TaskFilter, search: String, orderBy: TaskOrder"
    assert signature(served, "Query", "viewer") == "viewer: User!"
    assert signature(served, "Query", "node") == "node(id: ID!): Node"
    assert signature(served, "Query", "projects").startswith(f"projects({page}): ")
    assert signature(served, "Query", "project") == "project(id: ID!): Project"
    assert signature(served, "Query", "task") == "task(id: ID!): Task"
    assert signature(served, "Query", "tasks").startswith(
        f"tasks(projectId: ID, {task_args}, {page}): TaskConnection"
    )
    assert signature(served, "Query", "activity").startswith(
        "activity(projectId: ID!, first: Int, after: String): EventConnection"
    )
    assert signature(served, "Project", "tasks").startswith(f"tasks({task_args}, {page}): ")
    assert signature(served, "Project", "members") == "members: [Membership!]!"
    assert signature(served, "Project", "viewerRole") == "viewerRole: Role"
    assert signature(served, "Task", "comments").startswith(
        "comments(first: Int, after: String): CommentConnection"
    )
    assert signature(served, "Task", "attachments") == "attachments: [Attachment!]!"
    assert signature(served, "Task", "commentCount").startswith("commentCount: Int")


def undocumented(input_type: Any) -> GraphQLInputObjectType:
    """The input type without its descriptions (the schema documents every element; API.md
    fixes the names, types, defaults and order, which `print_type` of this copy shows)."""
    return GraphQLInputObjectType(
        input_type.name,
        {
            name: GraphQLInputField(field.type, default_value=field.default_value)
            for name, field in input_type.fields.items()
        },
    )


def test_inputs_and_enums(served: GraphQLSchema) -> None:
    assert print_type(undocumented(served.get_type("TaskFilter"))) == (
        "input TaskFilter {\n  status: [TaskStatus!]\n  priority: [TaskPriority!]\n"
        "  assigneeId: ID\n  unassigned: Boolean\n  dueBefore: Date\n  dueAfter: Date\n}"
    )
    order = served.get_type("TaskOrder")
    assert set(order.fields) == {"field", "direction"}  # type: ignore[union-attr]
    enums = {
        str(order.fields["field"].type).rstrip("!"): [  # type: ignore[union-attr]
            "CREATED_AT",
            "UPDATED_AT",
            "DUE_DATE",
            "PRIORITY",
            "TITLE",
        ],
        str(order.fields["direction"].type).rstrip("!"): ["ASC", "DESC"],  # type: ignore[union-attr]
        "TaskStatus": ["TODO", "IN_PROGRESS", "DONE"],
        "TaskPriority": ["LOW", "MEDIUM", "HIGH", "URGENT"],
        "Role": ["OWNER", "ADMIN", "MEMBER", "VIEWER"],
    }
    for name, values in enums.items():
        assert list(served.get_type(name).values) == values, name  # type: ignore[union-attr]


def test_object_types(served: GraphQLSchema) -> None:
    assert fields(served, "User") >= {"id", "username", "displayName"}
    assert fields(served, "Membership") >= {"user", "role", "joinedAt"}
    assert fields(served, "Project") >= {"id", "name", "description", "createdAt"}
    assert fields(served, "Task") >= {
        "id", "project", "title", "description", "status", "priority", "dueDate", "assignee",
        "createdBy", "createdAt", "updatedAt", "completedAt", "version",
    }  # fmt: skip
    assert fields(served, "Comment") >= {"id", "author", "body", "createdAt", "editedAt"}
    assert fields(served, "Attachment") >= {
        "id", "name", "size", "contentType", "sha256", "uploadedBy", "uploadedAt", "url",
        "width", "height",
    }  # fmt: skip
    assert fields(served, "Event") >= {
        "id", "type", "project", "task", "actor", "data", "createdAt",
    }  # fmt: skip
    assert str(served.get_type("Event").fields["data"].type).rstrip("!") == "JSON"  # type: ignore[union-attr]
    for node_type in ("User", "Project", "Task", "Comment", "Attachment"):
        interfaces = [i.name for i in served.get_type(node_type).interfaces]  # type: ignore[union-attr]
        assert "Node" in interfaces, node_type
    for connection in ("ProjectConnection", "TaskConnection", "CommentConnection"):
        assert fields(served, connection) >= {"edges", "pageInfo", "totalCount"}
    assert fields(served, "TaskEdge") >= {"cursor", "node"}
    assert fields(served, "PageInfo") >= {
        "hasNextPage", "hasPreviousPage", "startCursor", "endCursor",
    }  # fmt: skip
    user_error = served.get_type("UserError").fields  # type: ignore[union-attr]
    assert {name: str(f.type) for name, f in user_error.items()} == {
        "field": "String",
        "code": "String!",
        "message": "String!",
    }


MUTATIONS = {
    "createProject": ({"name", "description"}, "project"),
    "updateProject": ({"id", "name", "description"}, "project"),
    "deleteProject": ({"id"}, "deletedId"),
    "addProjectMember": ({"projectId", "username", "role"}, "membership"),
    "removeProjectMember": ({"projectId", "userId"}, "deletedId"),
    "createTask": (
        {"projectId", "title", "description", "status", "priority", "dueDate", "assigneeId"},
        "task",
    ),
    "updateTask": (
        {
            "id",
            "expectedVersion",
            "title",
            "description",
            "status",
            "priority",
            "dueDate",
            "assigneeId",
        },
        "task",
    ),
    "deleteTask": ({"id"}, "deletedId"),
    "addComment": ({"taskId", "body"}, "comment"),
    "updateComment": ({"id", "body"}, "comment"),
    "deleteComment": ({"id"}, "deletedId"),
    "uploadAttachment": ({"taskId", "file"}, "attachment"),
    "deleteAttachment": ({"id"}, "deletedId"),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_mutation_takes_one_input_and_returns_errors(served: GraphQLSchema, name: str) -> None:
    input_fields, object_field = MUTATIONS[name]
    mutation = served.mutation_type.fields[name]  # type: ignore[union-attr]
    assert list(mutation.args) == ["input"]
    input_type = served.get_type(str(mutation.args["input"].type).rstrip("!"))
    assert set(input_type.fields) >= input_fields  # type: ignore[union-attr]
    payload = served.get_type(str(mutation.type).rstrip("!")).fields  # type: ignore[union-attr]
    assert str(payload["errors"].type) == "[UserError!]!"
    if object_field is not None:
        assert object_field in payload
    if name.startswith("upload"):
        assert str(input_type.fields["file"].type) == "Upload!"  # type: ignore[union-attr]


def test_subscription_root(served: GraphQLSchema) -> None:
    # API.md's signatures plus `afterSeq` (issue 20), an optional argument: existing calls hold.
    assert signature(served, "Subscription", "projectEvents") == (
        "projectEvents(projectId: ID!, after: String, afterSeq: Int): Event!"
    )
    assert signature(served, "Subscription", "taskEvents") == (
        "taskEvents(taskId: ID!, after: String, afterSeq: Int): Event!"
    )
    assert signature(served, "Subscription", "projectEventStream") == (
        "projectEventStream(projectId: ID!, after: String, afterSeq: Int): EventStreamMessage!"
    )
    assert signature(served, "Subscription", "taskEventStream") == (
        "taskEventStream(taskId: ID!, after: String, afterSeq: Int): EventStreamMessage!"
    )
