"""The crash test's view of the database its server processes use (a SQLite file or the test's
PostgreSQL database), run as `python -m tests.ops.outbox_site <command>` with the servers'
environment and answering one JSON line:

- `setup <receiver url>`: migrates, then a user with a token, a project with a task, and a webhook
  on every event type to the receiver; `after` is the newest event id (a resume cursor).
- `state`: the pending outbox entries and every webhook delivery.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import django


def setup(receiver_url: str) -> dict[str, Any]:
    from django.core.management import call_command

    from tasks import webhooks
    from tasks.models import Event
    from tests.factories import UserFactory, make_project, make_task, make_token

    call_command("migrate", verbosity=0)
    owner = UserFactory(username="crash-owner")
    project = make_project(owner, name="Crash")
    task = make_task(project, owner, title="Before the crash")
    webhooks.webhook_create(actor=owner, project_id=project.pk, url=receiver_url)
    return {
        "token": make_token(owner),
        "project_id": project.pk,
        "task_id": task.pk,
        "after": str(Event.objects.filter(project=project).latest("id").pk),
    }


def state() -> dict[str, Any]:
    from tasks.models import OutboxEntry, WebhookDelivery

    return {
        "outbox": sorted(OutboxEntry.objects.values_list("pk", flat=True)),
        "deliveries": [
            {
                "event_id": delivery.event_id,
                "message_id": delivery.message_id,
                "state": delivery.state,
                "attempt_count": delivery.attempt_count,
            }
            for delivery in WebhookDelivery.objects.order_by("id")
        ],
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    django.setup()
    command, *args = sys.argv[1:]
    answer = setup(*args) if command == "setup" else state()
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
