"""createWebhook (the payload carries the signing secret, this once), updateWebhook,
deleteWebhook, redeliverWebhookDelivery. Project ADMINs and the OWNER only: a member gets
FORBIDDEN, a non-member NOT_FOUND."""

from __future__ import annotations

from typing import Any

import graphene

from tasks import webhooks

from ..context import viewer
from ..ids import decode_id, to_global_id
from ..webhook_types import Webhook, WebhookDelivery
from .base import ServiceMutation, call_service, user_error_list

WEBHOOK_FIELDS = ("url", "event_types", "active")
_SHOWN_SECRETS = "_webhook_secrets_shown"


def redact_shown_secrets(context: Any, value: Any) -> Any:
    """`value` (a response body) with every secret this request's createWebhook showed replaced
    by null: an Idempotency-Key replay is stored in the shared cache, the secret must not be."""
    secrets = getattr(context, _SHOWN_SECRETS, ())
    if not secrets:
        return value
    if isinstance(value, dict):
        return {key: redact_shown_secrets(context, item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_shown_secrets(context, item) for item in value]
    return None if isinstance(value, str) and value in secrets else value


def _event_types_arg() -> graphene.List:
    return graphene.List(
        graphene.NonNull(graphene.String),
        description="Event types to send (e.g. `task.created`); empty or null means every type.",
    )


class CreateWebhookInput(graphene.InputObjectType):
    """A new webhook."""

    project_id = graphene.ID(required=True, description="The project's global ID.")
    url = graphene.String(required=True, description="http(s); never a private address.")
    event_types = _event_types_arg()
    active = graphene.Boolean(description="Default true.")


class CreateWebhook(ServiceMutation):
    """Registers a webhook. `secret` signs every delivery (Standard Webhooks); it is shown in
    this payload only, so store it now."""

    class Meta:
        name = "CreateWebhookPayload"

    class Arguments:
        input = CreateWebhookInput(required=True, description="The webhook to create.")

    webhook = graphene.Field(Webhook, description="The new webhook.")
    secret = graphene.String(description="The signing secret (`whsec_...`), shown this once.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> CreateWebhook:
        fields = {name: input[name] for name in WEBHOOK_FIELDS if input.get(name) is not None}

        def run() -> dict[str, Any]:
            created = webhooks.webhook_create(
                actor=viewer(info), project_id=decode_id(input["project_id"], "Project"), **fields
            )
            if not isinstance(info.context, dict):
                shown = [*getattr(info.context, _SHOWN_SECRETS, ()), created.secret]
                setattr(info.context, _SHOWN_SECRETS, shown)
            return {"webhook": created.webhook, "secret": created.secret}

        return CreateWebhook(**call_service(run))


class UpdateWebhookInput(graphene.InputObjectType):
    """The fields to change; the ones left out keep their values."""

    id = graphene.ID(required=True, description="The webhook's global ID.")
    url = graphene.String(description="http(s); never a private address.")
    event_types = _event_types_arg()
    active = graphene.Boolean(description="true also re-enables a webhook the server disabled.")


class UpdateWebhook(ServiceMutation):
    """Changes a webhook's URL, event types or `active` flag."""

    class Meta:
        name = "UpdateWebhookPayload"

    class Arguments:
        input = UpdateWebhookInput(required=True, description="The webhook and its changes.")

    webhook = graphene.Field(Webhook, description="The webhook as changed.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> UpdateWebhook:
        changes = {name: input[name] for name in WEBHOOK_FIELDS if name in input}

        def run() -> dict[str, Any]:
            webhook = webhooks.webhook_update(
                actor=viewer(info), webhook_id=decode_id(input["id"], "Webhook"), changes=changes
            )
            return {"webhook": webhook}

        return UpdateWebhook(**call_service(run))


class DeleteWebhookInput(graphene.InputObjectType):
    """The webhook to delete."""

    id = graphene.ID(required=True, description="The webhook's global ID.")


class DeleteWebhook(ServiceMutation):
    """Deletes a webhook with its delivery log."""

    class Meta:
        name = "DeleteWebhookPayload"

    class Arguments:
        input = DeleteWebhookInput(required=True, description="The webhook to delete.")

    deleted_id = graphene.ID(description="The deleted webhook's global ID.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> DeleteWebhook:
        def run() -> dict[str, Any]:
            pk = webhooks.webhook_delete(
                actor=viewer(info), webhook_id=decode_id(input["id"], "Webhook")
            )
            return {"deleted_id": to_global_id("Webhook", pk)}

        return DeleteWebhook(**call_service(run))


class RedeliverWebhookDeliveryInput(graphene.InputObjectType):
    """The delivery to send again."""

    id = graphene.ID(required=True, description="The delivery's global ID.")


class RedeliverWebhookDelivery(ServiceMutation):
    """Sends a delivery again with the same `webhook-id`, as a new sequence of attempts."""

    class Meta:
        name = "RedeliverWebhookDeliveryPayload"

    class Arguments:
        input = RedeliverWebhookDeliveryInput(required=True, description="The delivery to resend.")

    delivery = graphene.Field(WebhookDelivery, description="The delivery, PENDING again.")
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> RedeliverWebhookDelivery:
        def run() -> dict[str, Any]:
            delivery = webhooks.webhook_redeliver(
                actor=viewer(info), delivery_id=decode_id(input["id"], "WebhookDelivery")
            )
            return {"delivery": delivery}

        return RedeliverWebhookDelivery(**call_service(run))
