"""Background work as Celery tasks. Each task is a thin wrapper around a domain function, so the
same code runs on a worker (REDIS_URL set) or in-process (eager, development and tests)."""

from __future__ import annotations

from celery import shared_task

from . import outbox, retention
from .uploads.processing import process
from .webhook_delivery import run_attempt

# --- The outbox sweeper (tasks.outbox), run by Celery beat (project/celery.py) --------------------


@shared_task(name="tasks.sweep_outbox", ignore_result=True)  # type: ignore[untyped-decorator]
def sweep_outbox() -> int:
    """Dispatches committed events still undispatched after their grace period."""
    return outbox.sweep()


# --- Event retention (tasks.retention), run by Celery beat (project/celery.py) -------------------


@shared_task(name="tasks.prune_events", ignore_result=True)  # type: ignore[untyped-decorator]
def prune_events() -> int:
    """Deletes events older than `EVENT_RETENTION_DAYS`; a resume from before them then answers
    `CURSOR_TOO_OLD`. Safe to run concurrently (each project is pruned under its log row lock)."""
    return retention.prune(before=retention.retention_cutoff())


# --- Webhooks (tasks.webhook_delivery) ------------------------------------------------------------


@shared_task(name="tasks.deliver_webhook", ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
def deliver_webhook(delivery_id: int, sequence: int, attempt: int) -> None:
    """One delivery attempt; duplicates and superseded attempts are no-ops (see the module)."""
    run_attempt(delivery_id, sequence, attempt)


# --- Attachments (tasks.uploads.processing) -------------------------------------------------------


@shared_task(name="tasks.process_attachment", ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
def process_attachment(attachment_id: int) -> str:
    """sha256, image size and thumbnail, then `attachment.processed`; repeat runs are no-ops."""
    return process(attachment_id)
