"""Outgoing webhooks: the services and selectors the transports call.

Managing webhooks and reading their delivery log is for project ADMINs and OWNERs; other members
get PermissionDenied, non-members NotFound (the project's existence is not leaked). The signing
secret is returned once, by `webhook_create`; afterwards only the server can read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Prefetch, QuerySet

from . import outbound
from .errors import FieldError, NotFound, PermissionDenied, ValidationError
from .models import Event, Webhook, WebhookAttempt, WebhookDelivery
from .permissions import Action, can
from .selectors import member_project_ids, project_get, role_of
from .webhook_delivery import schedule_after_commit
from .webhook_signing import encrypt_secret, generate_secret

Actor = User | AnonymousUser

URL_MAX_LENGTH = 2000
WEBHOOK_FIELDS = frozenset({"url", "event_types", "active"})


@dataclass(frozen=True)
class CreatedWebhook:
    """What `webhook_create` returns: the webhook and its signing secret, shown this once."""

    webhook: Webhook
    secret: str


# --- Validation -----------------------------------------------------------------------------------


def _clean_url(errors: list[FieldError], value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError("url", "required", "url is required."))
        return ""
    url = value.strip()
    if len(url) > URL_MAX_LENGTH:
        errors.append(
            FieldError("url", "too_long", f"url must be at most {URL_MAX_LENGTH} characters.")
        )
        return ""
    try:
        outbound.check_url(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)
    except outbound.UnsafeTarget as exc:
        errors.append(FieldError("url", "invalid", str(exc)))
    return url


def _clean_event_types(errors: list[FieldError], value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        errors.append(FieldError("event_types", "invalid", "event_types must be a list."))
        return []
    allowed = set(Event.Type.values)
    cleaned: list[str] = []
    for item in value:
        if not isinstance(item, str) or item not in allowed:
            errors.append(
                FieldError(
                    "event_types",
                    "invalid_choice",
                    f"event_types must contain only: {', '.join(Event.Type.values)}.",
                )
            )
            return []
        if item not in cleaned:
            cleaned.append(item)
    return cleaned


def _clean_active(errors: list[FieldError], value: object) -> bool:
    if not isinstance(value, bool):
        errors.append(FieldError("active", "invalid", "active must be true or false."))
        return False
    return value


def _require_manager(actor: Actor, project_id: int) -> None:
    if not can(role_of(actor, project_id), Action.MANAGE_WEBHOOKS):
        raise PermissionDenied("Only project admins manage webhooks.")


def _managed_project_id(actor: Actor, project_id: object) -> int:
    project = project_get(actor, project_id)  # NotFound for non-members
    _require_manager(actor, project.pk)
    return int(project.pk)


def _visible_webhooks(actor: Actor) -> QuerySet[Webhook]:
    return Webhook.objects.filter(project_id__in=member_project_ids(actor))


def _parse_id(value: object, what: str) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError, OverflowError):
        raise NotFound(what) from None


# --- Services -------------------------------------------------------------------------------------


def webhook_create(
    *,
    actor: User,
    project_id: object,
    url: object,
    event_types: object = None,
    active: object = True,
) -> CreatedWebhook:
    """Registers a webhook. `event_types` empty or None means every event type."""
    project_pk = _managed_project_id(actor, project_id)
    errors: list[FieldError] = []
    clean_url = _clean_url(errors, url)
    clean_types = _clean_event_types(errors, event_types)
    clean_active = _clean_active(errors, active)
    if errors:
        raise ValidationError(errors)
    secret = generate_secret()
    with transaction.atomic():
        webhook = Webhook.objects.create(
            project_id=project_pk,
            url=clean_url,
            event_types=clean_types,
            active=clean_active,
            encrypted_secret=encrypt_secret(secret),
            created_by=actor,
        )
    return CreatedWebhook(webhook=webhook, secret=secret)


def webhook_update(*, actor: User, webhook_id: object, changes: Mapping[str, Any]) -> Webhook:
    """Changes `url`, `event_types` and/or `active`. Setting `active` to true re-enables a webhook
    the server disabled, clearing its failure count and the reason."""
    unknown = sorted(set(changes) - WEBHOOK_FIELDS)
    if unknown:
        raise ValidationError(
            [FieldError(name, "unknown_field", f"{name} cannot be changed.") for name in unknown]
        )
    with transaction.atomic():
        webhook = _locked_webhook(actor, webhook_id)
        errors: list[FieldError] = []
        cleaned: dict[str, Any] = {}
        if "url" in changes:
            cleaned["url"] = _clean_url(errors, changes["url"])
        if "event_types" in changes:
            cleaned["event_types"] = _clean_event_types(errors, changes["event_types"])
        if "active" in changes:
            cleaned["active"] = _clean_active(errors, changes["active"])
        if errors:
            raise ValidationError(errors)
        changed = [name for name, value in cleaned.items() if getattr(webhook, name) != value]
        for name in changed:
            setattr(webhook, name, cleaned[name])
        if cleaned.get("active") is True and (webhook.disabled_at or webhook.consecutive_failures):
            webhook.disabled_at = None
            webhook.disabled_reason = ""
            webhook.consecutive_failures = 0
            changed += ["disabled_at", "disabled_reason", "consecutive_failures"]
        if changed:
            webhook.save(update_fields=[*changed, "updated_at"])
    return webhook


def webhook_delete(*, actor: User, webhook_id: object) -> int:
    """Deletes the webhook and its delivery log; pending attempts then find nothing to do."""
    with transaction.atomic():
        webhook = _locked_webhook(actor, webhook_id)
        deleted_id = int(webhook.pk)
        webhook.delete()
    return deleted_id


def webhook_redeliver(*, actor: User, delivery_id: object) -> WebhookDelivery:
    """Sends a delivery again: a new sequence of attempts with the same `webhook-id`. Attempts
    still scheduled from an earlier sequence are dropped."""
    with transaction.atomic():
        delivery = webhook_delivery_get(actor, delivery_id)
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        webhook = Webhook.objects.get(pk=delivery.webhook_id)
        if not webhook.active:
            raise ValidationError.single(
                "webhook", "invalid", "The webhook is not active; activate it first."
            )
        delivery.sequence += 1
        delivery.state = WebhookDelivery.State.PENDING
        delivery.attempt_count = 0
        delivery.next_attempt_at = None
        delivery.completed_at = None
        delivery.last_error = ""
        delivery.last_status_code = None
        delivery.save()
        schedule_after_commit(delivery.pk, delivery.sequence, 1, 0.0)
    return delivery


def _locked_webhook(actor: User, webhook_id: object) -> Webhook:
    webhook = webhook_get(actor, webhook_id)
    return Webhook.objects.select_for_update().get(pk=webhook.pk)


# --- Selectors ------------------------------------------------------------------------------------


def project_webhooks(actor: Actor, project_id: object) -> QuerySet[Webhook]:
    """The project's webhooks, oldest first."""
    project_pk = _managed_project_id(actor, project_id)
    return Webhook.objects.filter(project_id=project_pk).select_related("created_by")


def webhook_get(actor: Actor, webhook_id: object) -> Webhook:
    pk = _parse_id(webhook_id, "webhook")
    webhook = _visible_webhooks(actor).select_related("created_by").filter(pk=pk).first()
    if webhook is None:
        raise NotFound("webhook")
    _require_manager(actor, webhook.project_id)
    return webhook


def webhook_deliveries(actor: Actor, webhook_id: object) -> QuerySet[WebhookDelivery]:
    """The webhook's deliveries, newest first, each with its attempts prefetched (oldest first)."""
    webhook = webhook_get(actor, webhook_id)
    return WebhookDelivery.objects.filter(webhook=webhook).prefetch_related(
        Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("id"))
    )


def webhook_delivery_get(actor: Actor, delivery_id: object) -> WebhookDelivery:
    pk = _parse_id(delivery_id, "delivery")
    delivery = (
        WebhookDelivery.objects.filter(webhook__project_id__in=member_project_ids(actor), pk=pk)
        .select_related("webhook")
        .first()
    )
    if delivery is None:
        raise NotFound("delivery")
    _require_manager(actor, delivery.webhook.project_id)
    return delivery


def delivery_attempts(actor: Actor, delivery_id: object) -> QuerySet[WebhookAttempt]:
    """Every attempt of a delivery, across redeliveries, oldest first."""
    delivery = webhook_delivery_get(actor, delivery_id)
    return WebhookAttempt.objects.filter(delivery=delivery).order_by("id")
