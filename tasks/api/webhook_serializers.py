"""How webhooks and their delivery log look over REST (output only; `tasks.webhooks` writes).

The signing secret is rendered by `WebhookCreated*Serializer` alone, from the serializer context
the create view fills with `CreatedWebhook.secret`; no other serializer has the field."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tasks.models import Event, Webhook, WebhookAttempt, WebhookDelivery

from .serializers import V2, LinksMixin, NodeIdField, link, nested_user, user_id_field

EVENT_TYPES_SCHEMA = {"type": "array", "items": {"type": "string", "enum": Event.Type.values}}


@extend_schema_field(EVENT_TYPES_SCHEMA)
class EventTypesField(serializers.ListField):
    """Event types; an empty list means every type."""


# --- Webhooks -------------------------------------------------------------------------------------


class WebhookSerializer(serializers.ModelSerializer[Webhook]):
    node_id = NodeIdField("Webhook")
    project = serializers.IntegerField(source="project_id", read_only=True)
    event_types = EventTypesField(
        child=serializers.CharField(), read_only=True, help_text="Empty means every event type."
    )
    created_by = user_id_field("created_by_id")

    class Meta:
        model = Webhook
        fields = [
            "id", "node_id", "project", "url", "event_types", "active", "disabled_at",
            "disabled_reason", "consecutive_failures", "created_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class WebhookV2Serializer(LinksMixin, WebhookSerializer):
    created_by = nested_user()  # type: ignore[assignment]

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "links"]

    def build_links(self, request: Any, obj: Any) -> list[dict[str, str]]:
        pk = obj.pk
        return [
            link(request, "self", "webhook-detail", pk=pk),
            link(request, "update", "webhook-detail", "PATCH", pk=pk),
            link(request, "delete", "webhook-detail", "DELETE", pk=pk),
            link(request, "deliveries", "webhook-deliveries", pk=pk),
            link(request, "webhooks", "project-webhooks", pk=obj.project_id),
            link(request, "project", "project-detail", pk=obj.project_id),
        ]


class SecretMixin(serializers.Serializer[Any]):
    secret = serializers.SerializerMethodField(
        help_text="The signing secret (Standard Webhooks, `whsec_...`). Shown in this response "
        "only: store it now. A replay of this request (Idempotency-Key) shows null."
    )

    @extend_schema_field({"type": "string", "nullable": True})
    def get_secret(self, webhook: Webhook) -> str | None:
        secret: str | None = self.context.get("secret")
        return secret


class WebhookCreatedSerializer(SecretMixin, WebhookSerializer):
    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookCreatedV2Serializer(SecretMixin, WebhookV2Serializer):
    class Meta(WebhookV2Serializer.Meta):
        fields = [*WebhookV2Serializer.Meta.fields, "secret"]


# --- Deliveries -----------------------------------------------------------------------------------


class WebhookAttemptSerializer(serializers.ModelSerializer[WebhookAttempt]):
    succeeded = serializers.BooleanField(read_only=True)

    class Meta:
        model = WebhookAttempt
        fields = [
            "id", "sequence", "number", "status_code", "succeeded", "duration_ms", "error",
            "response_body", "next_attempt_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    node_id = NodeIdField("WebhookDelivery")
    webhook = serializers.IntegerField(source="webhook_id", read_only=True)
    event = serializers.IntegerField(source="event_id", read_only=True)
    message_id = serializers.CharField(
        read_only=True, help_text="The `webhook-id` header: the same on every retry."
    )
    payload = serializers.JSONField(read_only=True, help_text="The JSON body sent.")
    attempts = WebhookAttemptSerializer(
        many=True, read_only=True, help_text="Every attempt, redeliveries included, oldest first."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "node_id", "webhook", "event", "event_type", "message_id", "state",
            "sequence", "attempt_count", "last_status_code", "last_error", "next_attempt_at",
            "created_at", "completed_at", "payload", "attempts",
        ]  # fmt: skip
        read_only_fields = fields


class WebhookDeliveryV2Serializer(LinksMixin, WebhookDeliverySerializer):
    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "links"]

    def build_links(self, request: Any, obj: Any) -> list[dict[str, str]]:
        pk = obj.pk
        return [
            link(request, "self", "delivery-detail", pk=pk),
            link(request, "redeliver", "delivery-redeliver", "POST", pk=pk),
            link(request, "webhook", "webhook-detail", pk=obj.webhook_id),
        ]


# `for_version` finds the v2 serializers here as it finds the others.
V2.update(
    {
        WebhookSerializer: WebhookV2Serializer,
        WebhookCreatedSerializer: WebhookCreatedV2Serializer,
        WebhookDeliverySerializer: WebhookDeliveryV2Serializer,
    }
)
