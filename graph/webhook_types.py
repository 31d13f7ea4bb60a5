"""Webhook, WebhookDelivery and WebhookAttempt, and `Project.webhooks`.

Every root here was reached through an access check in `tasks.webhooks` (a selector, a service,
or the batched admin check below), so relations under it are read directly."""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay

from tasks import models, orderings, webhooks
from tasks.permissions import Action, can

from .connections import DocumentedConnection, page_arguments
from .context import loaders, viewer
from .dataloaders import BatchLoader
from .enums import WebhookDeliveryState
from .ids import decode_id
from .model_types import ModelObjectType
from .pagination import paginate
from .scalars import JSON


class WebhookAttempt(ModelObjectType):
    """One HTTP request of a delivery."""

    class Meta:
        model = models.WebhookAttempt
        fields = (
            "sequence",
            "number",
            "status_code",
            "duration_ms",
            "error",
            "response_body",
            "next_attempt_at",
            "created_at",
        )
        descriptions = {
            "sequence": "1, then +1 for each redelivery.",
            "number": "The attempt's number in its sequence.",
            "status_code": "The receiver's HTTP status; null on network errors.",
            "duration_ms": "How long the request took, in milliseconds.",
            "error": "What went wrong (a network error or a non-2xx status); empty on success.",
            "response_body": "The start of the response.",
            "next_attempt_at": "When the next retry is due, if any.",
            "created_at": "When the request was sent.",
        }

    succeeded = graphene.Boolean(required=True, description="True for a 2xx status.")


class WebhookDelivery(ModelObjectType):
    """One event sent to one webhook, with every attempt."""

    class Meta:
        model = models.WebhookDelivery
        fields = (
            "id",
            "webhook",
            "event_type",
            "message_id",
            "state",
            "sequence",
            "attempt_count",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "payload",
            "created_at",
            "completed_at",
        )
        interfaces = (relay.Node,)
        connection_class = DocumentedConnection
        descriptions = {
            "event_type": "The event's type, e.g. `task.created`.",
            "message_id": "The `webhook-id` header: the same on every retry.",
            "sequence": "1, then +1 for each redelivery.",
            "attempt_count": "Attempts in the current sequence.",
            "last_status_code": "The HTTP status of the latest attempt; null before one or "
            "on a network error.",
            "last_error": "What went wrong in the latest attempt; empty if nothing did.",
            "next_attempt_at": "When the next attempt is due; null once the delivery is done.",
            "created_at": "When the event was queued for this webhook.",
            "completed_at": "When the delivery succeeded or gave up; null while pending.",
        }

    webhook = graphene.Field(
        lambda: Webhook, required=True, description="The webhook it was sent to."
    )
    state = graphene.Field(
        WebhookDeliveryState, required=True, description="Where the delivery stands."
    )
    payload = JSON(required=True, description="The JSON body sent.")  # not a `JSONString`
    attempts = graphene.NonNull(
        graphene.List(graphene.NonNull(WebhookAttempt)),
        description="Every attempt, redeliveries included, oldest first.",
    )

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


WebhookDeliveryConnection = WebhookDelivery._meta.connection


class Webhook(ModelObjectType):
    """A project's outgoing webhook. Its signing secret is shown once, on creation."""

    class Meta:
        model = models.Webhook
        fields = (
            "id",
            "url",
            "event_types",
            "active",
            "created_at",
            "updated_at",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
        )
        interfaces = (relay.Node,)
        descriptions = {
            "url": "Where deliveries are POSTed (http or https).",
            "active": "False when paused by an admin or disabled by the server.",
            "created_at": "When the webhook was created.",
            "updated_at": "When it last changed.",
            "consecutive_failures": "Deliveries failed in a row; reset by a success.",
            "disabled_at": "When the server disabled it after failures.",
        }

    # A JSONField would be graphene-django's `JSONString`; the list of names is typed here.
    event_types = graphene.NonNull(
        graphene.List(graphene.NonNull(graphene.String)),
        description="Event types sent (e.g. `task.created`); empty means every type.",
    )
    # Null rather than the column's empty string while it is not disabled.
    disabled_reason = graphene.String(
        description="Why the server disabled it; null while it is not disabled."
    )
    deliveries = graphene.Field(
        graphene.NonNull(WebhookDeliveryConnection),
        description="Newest first.",
        **page_arguments(backwards=False),
    )

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
