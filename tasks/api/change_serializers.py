"""How a delta-sync answer (`tasks.changes.ChangeSet`) looks over REST (v2 only): the changed
objects exactly as the v2 endpoints show them, tombstones, and the next cursor."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from graphql_relay import to_global_id
from rest_framework import serializers

from tasks import changes

from .serializers import (
    AttachmentV2Serializer,
    CommentV2Serializer,
    MembershipV2Serializer,
    ProjectV2Serializer,
    TaskV2Serializer,
)

KINDS = [changes.TASK, changes.COMMENT, changes.ATTACHMENT, changes.MEMBERSHIP]


class TombstoneSerializer(serializers.Serializer[changes.Tombstone]):
    """Something changed and gone (or no longer visible to you): remove it. A `task` tombstone
    also removes every comment and attachment of that task."""

    type = serializers.ChoiceField(choices=KINDS, source="kind", read_only=True)
    id = serializers.IntegerField(
        source="pk",
        read_only=True,
        help_text="The object's id; for a membership, the former member's user id.",
    )
    node_id = serializers.SerializerMethodField(
        help_text="GraphQL global ID (for a membership: the former member's `User` ID)."
    )
    project = serializers.IntegerField(source="project_id", read_only=True)
    task = serializers.IntegerField(
        source="task_id",
        read_only=True,
        allow_null=True,
        help_text="For a comment or an attachment: the task it belonged to.",
    )

    @extend_schema_field({"type": "string"})
    def get_node_id(self, tombstone: changes.Tombstone) -> str:
        type_name = "User" if tombstone.kind == changes.MEMBERSHIP else tombstone.kind.capitalize()
        return to_global_id(type_name, tombstone.pk)


class ChangesSerializer(serializers.Serializer[dict[str, Any]]):
    """What changed since `since`, as current state: every object once, in its latest version;
    apply the objects (insert or replace by id), then `deleted`; continue with `cursor` (or follow
    `next`) while `has_more`."""

    project = ProjectV2Serializer(
        read_only=True, allow_null=True, help_text="The project, when it was updated; else null."
    )
    tasks = TaskV2Serializer(many=True, read_only=True)
    comments = CommentV2Serializer(many=True, read_only=True)
    attachments = AttachmentV2Serializer(many=True, read_only=True)
    members = MembershipV2Serializer(many=True, read_only=True)
    deleted = TombstoneSerializer(many=True, read_only=True)
    cursor = serializers.CharField(
        read_only=True, help_text="The next `since`: the position after everything here."
    )
    has_more = serializers.BooleanField(read_only=True, help_text="More changes follow.")
    next = serializers.URLField(
        read_only=True, allow_null=True, help_text="This endpoint with `since=cursor`, if more."
    )


class ChangesCursorSerializer(serializers.Serializer[dict[str, Any]]):
    cursor = serializers.CharField(
        read_only=True,
        help_text="Where the project's change log stands now: take it before fetching the state "
        "you keep, then pass it as `since` to catch up.",
    )
