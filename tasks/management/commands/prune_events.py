"""python manage.py prune_events [--days N]: delete events past the retention window now (what
the `tasks.prune_events` beat job does), e.g. from cron where no Celery beat runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tasks import retention


class Command(BaseCommand):
    help = (
        "Delete events older than EVENT_RETENTION_DAYS (or --days). A stream resumed from "
        "before them answers recovered: false, CURSOR_TOO_OLD."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="override EVENT_RETENTION_DAYS")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            before = retention.retention_cutoff()
        elif days < 0:
            raise CommandError("--days must be 0 or more.")
        else:
            before = timezone.now() - timedelta(days=days)
        deleted = retention.prune(before=before)
        self.stdout.write(f"Pruned {deleted} events created before {before.isoformat()}.")
