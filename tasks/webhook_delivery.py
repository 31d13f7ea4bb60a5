"""Delivering committed events to webhooks: enqueue, attempt, retry, give up, disable.

`create_for_event` runs inside the change's transaction (from `tasks.outbox.follow`, when the
project has an active webhook: the `seq` upsert in tasks.events tells): one WebhookDelivery per
matching active webhook, committed with the change, so a crash after the commit cannot lose it.
After the commit the outbox dispatcher (or, after a crash, its sweeper) calls
`schedule_first_attempts`: one job per delivery not yet attempted. Each job is one attempt,
identified by (delivery id, sequence, attempt number); a job whose attempt is no longer the next
one (a duplicate, or one superseded by a redelivery) does nothing. So broker redeliveries cannot
make an attempt twice, and a redelivery cleanly starts a new sequence.

Where jobs run: with a broker (REDIS_URL set) they are Celery tasks on a worker, retries scheduled
with `countdown`. Without one Celery is eager, which would run the HTTP request inside the request
that made the change; so then jobs run on a small in-process thread pool instead (`LocalRunner`),
and the change's request never waits for a receiver. Retries pending in that pool are lost if the
process stops; their deliveries stay `pending` and can be redelivered.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import Q
from django.utils import timezone

from . import outbound
from .models import Webhook, WebhookAttempt, WebhookDelivery
from .webhook_signing import SecretUnavailable, decrypt_secret, signed_headers

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 425, 429})
ERROR_LENGTH = 500


# --- Enqueueing -----------------------------------------------------------------------------------


def create_for_event(payload: dict[str, Any], *, project_id: int) -> list[WebhookDelivery]:
    """The deliveries of one event, written in the event's own transaction."""
    return [
        WebhookDelivery.objects.create(
            webhook=webhook,
            event_id=int(payload["id"]),
            event_type=payload["type"],
            payload=payload,
        )
        for webhook in Webhook.objects.filter(project_id=project_id, active=True)
        if webhook.wants(payload["type"])
    ]


def schedule_first_attempts(event_ids: list[int]) -> int:
    """Schedules attempt 1 of every delivery of these events not attempted yet. Running it twice
    schedules duplicate jobs, which `run_attempt` turns into no-ops: the receiver sees one POST
    per attempt, always with the delivery's `webhook-id`."""
    first = WebhookDelivery.objects.filter(
        event_id__in=event_ids, state=WebhookDelivery.State.PENDING, attempt_count=0
    ).order_by("id")
    scheduled = 0
    for delivery_id, sequence in first.values_list("id", "sequence"):
        schedule(delivery_id, sequence, 1, 0.0)
        scheduled += 1
    return scheduled


def schedule_overdue(cutoff: datetime) -> int:
    """Schedules again the attempts that should have started before `cutoff`: first attempts
    never made (their dispatch was lost: a crash, a broker outage) and retries whose job was lost
    (in-process retries die with their process). A duplicate of a job still on its way is a
    no-op (`run_attempt`), so this is safe to run at any time, from any number of processes."""
    pending = WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING)
    overdue = pending.filter(
        Q(attempt_count=0, created_at__lte=cutoff) | Q(next_attempt_at__lte=cutoff)
    ).order_by("id")
    scheduled = 0
    for delivery_id, sequence, attempt_count in overdue.values_list(
        "id", "sequence", "attempt_count"
    ):
        schedule(delivery_id, sequence, attempt_count + 1, 0.0)
        scheduled += 1
    if scheduled:
        logger.warning("overdue webhook attempts scheduled", extra={"count": scheduled})
    return scheduled


def schedule_after_commit(delivery_id: int, sequence: int, attempt: int, delay: float) -> None:
    transaction.on_commit(lambda: schedule(delivery_id, sequence, attempt, delay))


def schedule(delivery_id: int, sequence: int, attempt: int, delay: float) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        local_runner().submit(delay, run_attempt, delivery_id, sequence, attempt)
        return
    from .jobs import deliver_webhook  # jobs imports this module

    deliver_webhook.apply_async(args=(delivery_id, sequence, attempt), countdown=max(delay, 0))


# --- Retry policy ---------------------------------------------------------------------------------


def backoff_delay(attempt: int) -> float:
    """Exponential backoff with jitter after failed attempt number `attempt` (1-based)."""
    ceiling = min(
        settings.WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** (attempt - 1),
        settings.WEBHOOK_BACKOFF_MAX_SECONDS,
    )
    return float(ceiling * random.uniform(0.5, 1.0))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - timezone.now()).total_seconds(), 0.0)


def retry_delay(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return float(min(retry_after, settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS))
    return backoff_delay(attempt)


# --- One attempt ----------------------------------------------------------------------------------


def run_attempt(delivery_id: int, sequence: int, attempt: int) -> WebhookAttempt | None:
    """Makes attempt `attempt` of `sequence` of a delivery, if it is still the next one; records
    it and schedules the next attempt or settles the delivery. Returns the recorded attempt."""
    claimed = _claim(delivery_id, sequence, attempt)
    if claimed is None:
        return None
    delivery, webhook = claimed
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    status_code: int | None = None
    response_body = ""
    error = ""
    retryable = False
    retry_after: float | None = None
    started = time.monotonic()
    try:
        headers = signed_headers(
            decrypt_secret(webhook.encrypted_secret), message_id=delivery.message_id, body=body
        )
        response = outbound.post(
            webhook.url,
            content=body,
            headers=headers,
            connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS,
        )
    except SecretUnavailable as exc:
        error = str(exc)
    except outbound.OutboundError as exc:
        error = str(exc)[:ERROR_LENGTH] or type(exc).__name__
        retryable = exc.retryable
    else:
        status_code = response.status_code
        response_body = response.body.decode("utf-8", "replace")
        retryable = status_code in RETRYABLE_STATUSES or status_code >= 500
        if retryable:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(
        delivery_id,
        sequence=sequence,
        attempt=attempt,
        status_code=status_code,
        duration_ms=duration_ms,
        error=error,
        response_body=response_body,
        retryable=retryable,
        retry_after=retry_after,
    )


def _claim(delivery_id: int, sequence: int, attempt: int) -> tuple[WebhookDelivery, Webhook] | None:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if (
            delivery is None
            or delivery.state != WebhookDelivery.State.PENDING
            or delivery.sequence != sequence
            or delivery.attempt_count != attempt - 1
        ):
            return None
        webhook = Webhook.objects.get(pk=delivery.webhook_id)
        if not webhook.active:
            _settle(delivery, WebhookDelivery.State.FAILED, error="The webhook is not active.")
            return None
        delivery.attempt_count = attempt
        delivery.next_attempt_at = None
        delivery.save(update_fields=["attempt_count", "next_attempt_at"])
    return delivery, webhook


def _record(
    delivery_id: int,
    *,
    sequence: int,
    attempt: int,
    status_code: int | None,
    duration_ms: int,
    error: str,
    response_body: str,
    retryable: bool,
    retry_after: float | None,
) -> WebhookAttempt:
    succeeded = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        webhook = Webhook.objects.select_for_update().get(pk=delivery.webhook_id)
        current = (
            delivery.state == WebhookDelivery.State.PENDING
            and delivery.sequence == sequence
            and delivery.attempt_count == attempt
        )
        delay: float | None = None
        if (
            current
            and not succeeded
            and retryable
            and webhook.active
            and attempt < settings.WEBHOOK_MAX_ATTEMPTS
        ):
            delay = retry_delay(attempt, retry_after)
        now = timezone.now()
        next_attempt_at = now + timedelta(seconds=delay) if delay is not None else None
        if not error and not succeeded and status_code is not None:
            error = f"HTTP {status_code}"
        recorded = WebhookAttempt.objects.create(
            delivery=delivery,
            sequence=sequence,
            number=attempt,
            status_code=status_code,
            duration_ms=duration_ms,
            error=error,
            response_body=response_body,
            next_attempt_at=next_attempt_at,
        )
        if current:
            delivery.last_status_code = status_code
            if succeeded:
                _settle(delivery, WebhookDelivery.State.SUCCEEDED, error="")
                if webhook.consecutive_failures:
                    webhook.consecutive_failures = 0
                    webhook.save(update_fields=["consecutive_failures"])
            elif delay is not None:
                delivery.last_error = error
                delivery.next_attempt_at = next_attempt_at
                delivery.save(update_fields=["last_status_code", "last_error", "next_attempt_at"])
                schedule_after_commit(delivery.pk, sequence, attempt + 1, delay)
            else:
                _settle(delivery, WebhookDelivery.State.FAILED, error=error)
                _count_failure(webhook, error)
    logger.info(
        "webhook attempt",
        extra={
            "webhook_id": webhook.pk,
            "delivery_id": delivery.pk,
            "message_id": delivery.message_id,
            "sequence": sequence,
            "attempt": attempt,
            "status_code": status_code,
            "duration_ms": duration_ms,
            "error": error,
            "retry_in_seconds": delay,
        },
    )
    return recorded


def _settle(delivery: WebhookDelivery, state: str, *, error: str) -> None:
    delivery.state = state
    delivery.last_error = error
    delivery.next_attempt_at = None
    delivery.completed_at = timezone.now()
    delivery.save(
        update_fields=["state", "last_status_code", "last_error", "next_attempt_at", "completed_at"]
    )


def _count_failure(webhook: Webhook, error: str) -> None:
    """A delivery gave up. After WEBHOOK_DISABLE_AFTER_FAILURES of them in a row the webhook is
    disabled (not a public Event type: recorded on the webhook and logged)."""
    webhook.consecutive_failures += 1
    fields = ["consecutive_failures"]
    if webhook.active and webhook.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
        now = timezone.now()
        webhook.active = False
        webhook.disabled_at = now
        webhook.disabled_reason = (
            f"Disabled after {webhook.consecutive_failures} consecutive failed deliveries; "
            f"last error: {error}"
        )[:ERROR_LENGTH]
        fields += ["active", "disabled_at", "disabled_reason", "updated_at"]
        webhook.deliveries.filter(state=WebhookDelivery.State.PENDING).update(
            state=WebhookDelivery.State.FAILED,
            last_error="The webhook was disabled.",
            next_attempt_at=None,
            completed_at=now,
        )
        logger.warning(
            "webhook disabled",
            extra={
                "webhook_id": webhook.pk,
                "project_id": webhook.project_id,
                "consecutive_failures": webhook.consecutive_failures,
                "reason": webhook.disabled_reason,
            },
        )
    webhook.save(update_fields=fields)


# --- In-process runner (no broker) ----------------------------------------------------------------


class LocalRunner:
    """A bounded thread pool plus one timer thread for delayed jobs. Each job closes its own
    database connections when done."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")
        self._delayed: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._pending = 0
        self._timer: threading.Thread | None = None

    def submit(self, delay: float, job: Callable[..., Any], *args: Any) -> None:
        with self._condition:
            self._pending += 1
            if delay <= 0:
                self._pool.submit(self._run, job, args)
                return
            heapq.heappush(self._delayed, (time.monotonic() + delay, next(self._order), job, args))
            if self._timer is None:
                self._timer = threading.Thread(
                    target=self._release_due, name="webhook-timer", daemon=True
                )
                self._timer.start()
            self._condition.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once no job is queued, delayed or running (for tests and shutdown)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
        return True

    def _release_due(self) -> None:
        with self._condition:
            while True:
                if not self._delayed:
                    self._condition.wait()
                    continue
                due_at = self._delayed[0][0]
                now = time.monotonic()
                if due_at > now:
                    self._condition.wait(due_at - now)
                    continue
                _, _, job, args = heapq.heappop(self._delayed)
                self._pool.submit(self._run, job, args)

    def _run(self, job: Callable[..., Any], args: tuple[Any, ...]) -> None:
        close_old_connections()
        try:
            job(*args)
        except Exception:
            logger.exception("webhook job failed", extra={"job_args": list(args)})
        finally:
            connections.close_all()
            with self._condition:
                self._pending -= 1
                self._condition.notify_all()


_runner: LocalRunner | None = None
_runner_lock = threading.Lock()


def local_runner() -> LocalRunner:
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = LocalRunner(settings.WEBHOOK_LOCAL_WORKERS)
        return _runner
