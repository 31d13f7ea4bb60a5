"""Celery app: eager in-process when REDIS_URL is unset, a Redis broker otherwise. Beat (`celery
-A project worker -B`, or a separate `celery -A project beat`) runs the outbox sweeper and the
event log pruning (EVENT_RETENTION_DAYS)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["tasks"], related_name="jobs")


@app.on_after_configure.connect  # type: ignore[untyped-decorator]
def schedule_outbox_sweep(sender: Celery, **kwargs: object) -> None:
    """Beat runs the outbox sweeper and the event pruning; any number of beats at once is safe
    (sweepers never both dispatch an entry; pruning locks each project's log row)."""
    from django.conf import settings

    sender.add_periodic_task(
        settings.OUTBOX_SWEEP_INTERVAL_SECONDS,
        sender.signature("tasks.sweep_outbox"),
        name="sweep-outbox",
    )
    sender.add_periodic_task(
        settings.EVENT_PRUNE_INTERVAL_SECONDS,
        sender.signature("tasks.prune_events"),
        name="prune-events",
    )
