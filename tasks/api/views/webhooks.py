"""Webhooks and their delivery log: project ADMINs and OWNERs only (others 403, non-members 404,
as `tasks.webhooks` decides). The signing secret appears in the create response only."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from tasks import webhooks
from tasks.api.serializers import for_version
from tasks.api.webhook_inputs import WebhookCreateInput, WebhookUpdateInput
from tasks.api.webhook_serializers import (
    WebhookCreatedSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
)

from .base import ApiView


class ProjectWebhookListView(ApiView):
    output_serializer = WebhookSerializer
    input_serializers = {"post": WebhookCreateInput}
    is_list = True
    page_numbers = True

    def get_serializer_class(self) -> type[Any]:
        created = getattr(self.request, "method", None) == "POST"
        base = WebhookCreatedSerializer if created else WebhookSerializer
        return for_version(base, getattr(self.request, "version", None))

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.render_page(webhooks.project_webhooks(request.user, pk).order_by("id"))

    def post(self, request: Request, pk: int, **kwargs: Any) -> Response:
        """Registers a webhook. The response carries its signing `secret`, this once."""
        created = webhooks.webhook_create(actor=self.actor, project_id=pk, **self.parse())
        context = {**self.get_serializer_context(), "secret": created.secret}
        location = reverse(
            "api-webhook-detail",
            kwargs={"version": request.version, "pk": created.webhook.pk},
            request=request,
        )
        response = Response(
            self.get_serializer(created.webhook, context=context).data,
            status=201,
            headers={"Location": location, "Cache-Control": "no-store"},
        )
        # An Idempotency-Key replay stores this response in the shared cache: not the secret.
        response.idempotency_redact = ("secret",)  # type: ignore[attr-defined]
        return response


class WebhookDetailView(ApiView):
    output_serializer = WebhookSerializer
    input_serializers = {"patch": WebhookUpdateInput}

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.render(webhooks.webhook_get(request.user, pk))

    def patch(self, request: Request, pk: int, **kwargs: Any) -> Response:
        """Changes `url`, `event_types`, `active`; `active: true` re-enables a disabled webhook."""
        changes = self.parse(partial=True)
        return self.render(
            webhooks.webhook_update(actor=self.actor, webhook_id=pk, changes=changes)
        )

    def delete(self, request: Request, pk: int, **kwargs: Any) -> Response:
        webhooks.webhook_delete(actor=self.actor, webhook_id=pk)
        return Response(status=204)


class WebhookDeliveryListView(ApiView):
    """The webhook's deliveries, newest first, each with its attempts."""

    output_serializer = WebhookDeliverySerializer
    is_list = True
    page_numbers = True

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.render_page(webhooks.webhook_deliveries(request.user, pk).order_by("-id"))


class DeliveryDetailView(ApiView):
    output_serializer = WebhookDeliverySerializer

    def get(self, request: Request, pk: int, **kwargs: Any) -> Response:
        return self.render(webhooks.webhook_delivery_get(request.user, pk))


class DeliveryRedeliverView(ApiView):
    """Sends the delivery again (same `webhook-id`), as a new sequence of attempts: 202."""

    output_serializer = WebhookDeliverySerializer

    def post(self, request: Request, pk: int, **kwargs: Any) -> Response:
        delivery = webhooks.webhook_redeliver(actor=self.actor, delivery_id=pk)
        return self.render(delivery, 202)
