"""How far back a project's event log can be replayed, and pruning it.

Events are kept `EVENT_RETENTION_DAYS`; pruning deletes a project's oldest events up to a
sequence number and records it as the log's `pruned_seq` (tasks.models.ProjectLog). A client's
position `seq` (the last event it has) can be caught up completely while `seq >= pruned_seq`;
below that, something it never saw is gone and it must re-fetch state instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .models import Event, OutboxEntry, ProjectLog


def replay_floor(project_id: int) -> int:
    """The highest `seq` pruned from the project's log (0 when nothing was): positions below it
    cannot be replayed completely."""
    floor = (
        ProjectLog.objects.filter(project_id=project_id)
        .values_list("pruned_seq", flat=True)
        .first()
    )
    return int(floor or 0)


def prune_project(project_id: int, *, before: datetime) -> int:
    """Deletes the project's events created before `before`, oldest first, never past an event
    still waiting in the outbox (so the pruned part stays a prefix of the log). Returns how many
    were deleted."""
    with transaction.atomic():
        log = ProjectLog.objects.select_for_update().filter(project_id=project_id).first()
        if log is None:
            return 0
        old = Event.objects.filter(project_id=project_id, created_at__lt=before)
        through = old.aggregate(last=Max("seq"))["last"]
        if through is None:
            return 0
        pending = (
            OutboxEntry.objects.filter(event__project_id=project_id)
            .order_by("event__seq")
            .values_list("event__seq", flat=True)
            .first()
        )
        if pending is not None:
            through = min(through, pending - 1)
        if through <= log.pruned_seq:
            return 0
        _, deleted = Event.objects.filter(project_id=project_id, seq__lte=through).delete()
        log.pruned_seq = through
        log.save(update_fields=["pruned_seq"])
        return deleted.get(Event._meta.label, 0)


def retention_cutoff() -> datetime:
    """Events created before this are past `EVENT_RETENTION_DAYS` and may be pruned."""
    return timezone.now() - timedelta(days=int(settings.EVENT_RETENTION_DAYS))


def prune(*, before: datetime) -> int:
    """Prunes every project's log (tasks.jobs, `manage.py prune_events`); returns the number of
    events deleted."""
    project_ids = (
        Event.objects.filter(created_at__lt=before)
        .values_list("project_id", flat=True)
        .distinct()
        .order_by()
    )
    return sum(prune_project(project_id, before=before) for project_id in list(project_ids))
