"""`manage.py dispatch_outbox`: dispatch committed events whose dispatch is overdue, once.

For operators without Celery beat (cron, a Kubernetes CronJob) or after an incident. Safe next to
running web processes and workers: an entry is dispatched by only one of them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tasks import outbox


class Command(BaseCommand):
    help = "Dispatch committed events still undispatched after OUTBOX_GRACE_SECONDS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch",
            type=int,
            default=None,
            help="entries per round",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = outbox.sweep(options["batch"])
        self.stdout.write(f"Dispatched {sent} event(s).")
