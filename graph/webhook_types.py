"""Webhook, WebhookDelivery and WebhookAttempt, and `Project.webhooks`.

Every root here was reached through an access check in `tasks.webhooks` (a selector, a service,
or the batched admin check below), so relations under it are read directly."""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay

from tasks import models, orderings, webhooks
from tasks.permissions import Action, can

from .context import loaders, viewer
from .dataloaders import BatchLoader
from .ids import decode_id
from .pagination import CountableConnection, connection_args, paginate
from .scalars import JSON

WebhookDeliveryState = graphene.Enum(
    "WebhookDeliveryState",
    [(value.upper(), value) for value in models.WebhookDelivery.State.values],
    description="PENDING until an attempt succeeds (SUCCEEDED) or the retries run out (FAILED).",
)


class WebhookAttempt(graphene.ObjectType):
    """One HTTP request of a delivery."""

    sequence = graphene.Int(required=True, description="1, then +1 for each redelivery.")
    number = graphene.Int(required=True, description="The attempt's number in its sequence.")
    status_code = graphene.Int(description="The receiver's HTTP status; null on network errors.")
    succeeded = graphene.Boolean(required=True)
    duration_ms = graphene.Int(required=True)
    error = graphene.String(required=True)
    response_body = graphene.String(required=True, description="The start of the response.")
    next_attempt_at = graphene.DateTime(description="When the next retry is due, if any.")
    created_at = graphene.DateTime(required=True)


class WebhookDelivery(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)
        description = "One event sent to one webhook, with every attempt."

    webhook = graphene.Field(lambda: Webhook, required=True)
    event_type = graphene.String(required=True)
    message_id = graphene.String(
        required=True, description="The `webhook-id` header: the same on every retry."
    )
    state = graphene.Field(WebhookDeliveryState, required=True)
    sequence = graphene.Int(required=True)
    attempt_count = graphene.Int(required=True, description="Attempts in the current sequence.")
    last_status_code = graphene.Int()
    last_error = graphene.String(required=True)
    next_attempt_at = graphene.DateTime()
    payload = JSON(required=True, description="The JSON body sent.")
    created_at = graphene.DateTime(required=True)
    completed_at = graphene.DateTime()
    attempts = graphene.NonNull(
        graphene.List(graphene.NonNull(WebhookAttempt)),
        description="Every attempt, redeliveries included, oldest first.",
    )

    @classmethod
    def is_type_of(cls, root: Any, info: Any) -> bool:
        return isinstance(root, models.WebhookDelivery)

    @staticmethod
    def resolve_state(root: models.WebhookDelivery, info: Any) -> str:
        # A value the service just set is a TextChoices member, whose hash is not the string's.
        return str(models.WebhookDelivery.State(root.state).value)

    @staticmethod
    def resolve_attempts(root: models.WebhookDelivery, info: Any) -> Any:
        return root.attempts.all()  # prefetched by the delivery pages

    @classmethod
    def get_node(cls, info: Any, id: str) -> Any:
        return webhooks.webhook_delivery_get(viewer(info), decode_id(id, "WebhookDelivery"))


class WebhookDeliveryConnection(CountableConnection):
    class Meta:
        node = WebhookDelivery


class Webhook(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)
        description = "A project's outgoing webhook. Its signing secret is shown once, on creation."

    url = graphene.String(required=True)
    event_types = graphene.NonNull(
        graphene.List(graphene.NonNull(graphene.String)),
        description="Event types sent (e.g. `task.created`); empty means every type.",
    )
    active = graphene.Boolean(required=True)
    disabled_at = graphene.DateTime(description="When the server disabled it after failures.")
    disabled_reason = graphene.String()
    consecutive_failures = graphene.Int(required=True)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)
    deliveries = graphene.Field(
        graphene.NonNull(WebhookDeliveryConnection),
        description="Newest first.",
        **connection_args(backwards=False),
    )

    @classmethod
    def is_type_of(cls, root: Any, info: Any) -> bool:
        return isinstance(root, models.Webhook)

    @staticmethod
    def resolve_disabled_reason(root: models.Webhook, info: Any) -> str | None:
        return root.disabled_reason or None

    @staticmethod
    def resolve_deliveries(
        root: models.Webhook, info: Any, first: int | None = None, after: str | None = None
    ) -> Any:
        queryset = models.WebhookDelivery.objects.filter(webhook_id=root.pk)

        def nodes(rows: list[models.WebhookDelivery]) -> list[models.WebhookDelivery]:
            for row in rows:
                row.webhook = root
            return rows

        ordering = orderings.newest_first(f"Webhook:{root.pk}.deliveries")
        rows = queryset.prefetch_related("attempts")
        return paginate(rows, ordering, queryset.count, nodes=nodes, first=first, after=after)

    @classmethod
    def get_node(cls, info: Any, id: str) -> Any:
        return webhooks.webhook_get(viewer(info), decode_id(id, "Webhook"))


def project_webhooks(info: Any, project_id: int) -> list[models.Webhook]:
    """`Project.webhooks`: the project's webhooks for its admins and owner, an empty list for
    everyone else. Batched over every project of the response (one query, not one per project)."""
    batch = loaders(info)
    loader: BatchLoader[int, list[models.Webhook]] | None = getattr(batch, "webhook_lists", None)
    if loader is None:

        def fetch(ids: list[int]) -> dict[int, list[models.Webhook]]:
            managed = [pk for pk in ids if can(batch.viewer_roles.load(pk), Action.MANAGE_WEBHOOKS)]
            grouped: dict[int, list[models.Webhook]] = {}
            for hook in models.Webhook.objects.filter(project_id__in=managed).order_by("id"):
                grouped.setdefault(hook.project_id, []).append(hook)
            return grouped

        loader = BatchLoader(fetch, batch.project_ids, list)
        batch.webhook_lists = loader  # type: ignore[attr-defined]
    return loader.load(project_id)
