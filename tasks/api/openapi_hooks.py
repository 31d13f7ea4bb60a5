"""drf-spectacular postprocessing hooks (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): what
Redocly's `recommended` rules ask of the documents and AutoSchema cannot say by itself.

- Every operation gets a one-line `summary` (the menu entry in ReDoc and Swagger UI), looked up by
  its operation id without the version prefix: both versions share them.
- A nullable schema that only refers to another (`allOf: [$ref]` for a nullable nested serializer,
  `oneOf: [$ref, NullEnum]` for a nullable choice) also gets that schema's `type`: OpenAPI 3.0
  ignores `nullable` without a sibling `type`, so clients could not tell it may be null."""

from __future__ import annotations

from typing import Any

SUMMARIES = {
    "me_retrieve": "Get the signed-in user",
    "projects_list": "List your projects",
    "projects_create": "Create a project",
    "projects_retrieve": "Get a project",
    "projects_partial_update": "Update a project",
    "projects_destroy": "Delete a project",
    "projects_activity_list": "List a project's activity",
    "projects_changes_retrieve": "Get what changed in a project since a cursor",
    "projects_changes_head_retrieve": "Get a project's current changes cursor",
    "projects_members_list": "List a project's members",
    "projects_members_create": "Add a member or change their role",
    "projects_members_retrieve": "Get a membership",
    "projects_members_destroy": "Remove a member",
    "projects_webhooks_list": "List a project's webhooks",
    "projects_webhooks_create": "Register a webhook",
    "tasks_list": "List tasks",
    "tasks_create": "Create a task",
    "tasks_retrieve": "Get a task",
    "tasks_update": "Replace a task",
    "tasks_partial_update": "Update a task",
    "tasks_destroy": "Delete a task",
    "tasks_comments_list": "List a task's comments",
    "tasks_comments_create": "Comment on a task",
    "comments_retrieve": "Get a comment",
    "comments_partial_update": "Edit a comment",
    "comments_destroy": "Delete a comment",
    "tasks_attachments_list": "List a task's attachments",
    "tasks_attachments_create": "Upload an attachment",
    "attachments_retrieve": "Get an attachment",
    "attachments_destroy": "Delete an attachment",
    "attachments_download_retrieve": "Download an attachment's file",
    "webhooks_retrieve": "Get a webhook",
    "webhooks_partial_update": "Update a webhook",
    "webhooks_destroy": "Delete a webhook",
    "webhooks_deliveries_list": "List a webhook's deliveries",
    "deliveries_retrieve": "Get a delivery",
    "deliveries_redeliver_create": "Redeliver a delivery",
}
# What drf-spectacular's enum postprocessing adds for `null` in a choice: no type of its own.
NULL_ONLY = {"NullEnum", "BlankEnum"}


def add_summaries(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            _, _, name = operation["operationId"].partition("_")
            operation.setdefault("summary", SUMMARIES.get(name))
            if operation["summary"] is None:
                del operation["summary"]  # Redocly's operation-summary rule then names it
    return result


def type_nullable_references(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    components = result.get("components", {}).get("schemas", {})

    def referenced_type(schema: dict[str, Any]) -> str | None:
        refs = [part["$ref"] for part in schema.get("allOf", []) + schema.get("oneOf", [])]
        names = {ref.rsplit("/", 1)[-1] for ref in refs} - NULL_ONLY
        types = {components.get(name, {}).get("type") for name in names}
        return types.pop() if len(types) == 1 else None

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("nullable") and "type" not in node:
                found = referenced_type(node)
                if found:
                    node["type"] = found
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result)
    return result
