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
from .base import call_service, user_error_list

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
    project_id = graphene.ID(required=True)
    url = graphene.String(required=True, description="http(s); never a private address.")
    event_types = _event_types_arg()
    active = graphene.Boolean(description="Default true.")


class CreateWebhook(graphene.Mutation):
    """Registers a webhook. `secret` signs every delivery (Standard Webhooks); it is shown in
    this payload only, so store it now."""

    class Meta:
        name = "CreateWebhookPayload"

    class Arguments:
        input = CreateWebhookInput(required=True)

    webhook = graphene.Field(Webhook)
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
    id = graphene.ID(required=True)
    url = graphene.String()
    event_types = _event_types_arg()
    active = graphene.Boolean(description="true also re-enables a webhook the server disabled.")


class UpdateWebhook(graphene.Mutation):
    class Meta:
        name = "UpdateWebhookPayload"

    class Arguments:
        input = UpdateWebhookInput(required=True)

    webhook = graphene.Field(Webhook)
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
    id = graphene.ID(required=True)


class DeleteWebhook(graphene.Mutation):
    class Meta:
        name = "DeleteWebhookPayload"

    class Arguments:
        input = DeleteWebhookInput(required=True)

    deleted_id = graphene.ID()
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
    id = graphene.ID(required=True)


class RedeliverWebhookDelivery(graphene.Mutation):
    """Sends a delivery again with the same `webhook-id`, as a new sequence of attempts."""

    class Meta:
        name = "RedeliverWebhookDeliveryPayload"

    class Arguments:
        input = RedeliverWebhookDeliveryInput(required=True)

    delivery = graphene.Field(WebhookDelivery)
    errors = user_error_list()

    @staticmethod
    def mutate(root: None, info: Any, input: dict[str, Any]) -> RedeliverWebhookDelivery:
        def run() -> dict[str, Any]:
            delivery = webhooks.webhook_redeliver(
                actor=viewer(info), delivery_id=decode_id(input["id"], "WebhookDelivery")
            )
            return {"delivery": delivery}

        return RedeliverWebhookDelivery(**call_service(run))
