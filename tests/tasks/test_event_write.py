"""How a change writes its event: the `seq` upsert, the `Event` row and its outbox entry. One
statement on PostgreSQL (data-modifying `WITH` clauses, tasks.events._write_in_one_statement),
one each on SQLite (`_write_in_steps`); the rows and the returned instance are the same either
way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from tasks import events, outbox, webhooks
from tasks.models import Event, OutboxEntry, ProjectLog
from tests.factories import make_task

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = connection.vendor == "postgresql"
# The seq upsert, the event's INSERT and the outbox entry's INSERT.
STATEMENTS = 1 if ON_POSTGRESQL else 3
# The editable fields (`model_to_dict` leaves the others out; `_fields` adds them).
FIELDS = ("project", "seq", "task_id", "type", "actor", "data")


def _current_xact() -> int | None:
    if not ON_POSTGRESQL:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return int(cursor.fetchone()[0])


def _fields(event: Event) -> dict[str, Any]:
    return model_to_dict(event, fields=FIELDS) | {
        "id": event.pk,
        "created_at": event.created_at,
        "xact_id": event.xact_id,
    }


def _row(event: Event) -> dict[str, Any]:
    """What the database holds for `event`."""
    return _fields(Event.objects.get(pk=event.pk))


def _instance(event: Event) -> dict[str, Any]:
    """What the instance the write returned holds."""
    return _fields(event)


def test_an_event_is_written_with_its_seq_and_outbox_entry_in_the_expected_statements(
    project: Any, member: Any
) -> None:
    task = make_task(project, member)
    last = ProjectLog.objects.get(project=project).last_seq
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            event = events.task_updated(member, task, ["title"])
        assert len(captured) == STATEMENTS
        xact = _current_xact()
    assert event.seq == last + 1 == ProjectLog.objects.get(project=project).last_seq
    assert event.xact_id == xact
    assert not event._state.adding and event._state.db == "default"
    # The instance is what was written, and what every transport sends.
    assert _instance(event) == _row(event)
    assert events.event_payload(event) == events.event_payload(Event.objects.get(pk=event.pk))
    entry = OutboxEntry.objects.get(event=event)
    assert entry.claim is None
    assert timedelta(0) <= entry.available_at - event.created_at - outbox.grace() < timedelta(1)


def test_the_event_and_its_entry_roll_back_with_the_change(project: Any, member: Any) -> None:
    task = make_task(project, member)
    last = ProjectLog.objects.get(project=project).last_seq
    count = Event.objects.count()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        events.task_updated(member, task, ["title"])
        raise Abort
    assert Event.objects.count() == count
    assert ProjectLog.objects.get(project=project).last_seq == last
    assert not OutboxEntry.objects.filter(event__project=project, event__seq=last + 1).exists()


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite has no data-modifying WITH: steps only")
def test_one_statement_writes_what_the_steps_write(project: Any, member: Any, admin: Any) -> None:
    """Differential: the same event written both ways gives the same rows and answers."""
    task = make_task(project, member)
    fields = {"type": Event.Type.TASK_UPDATED, "project_id": project.pk, "task_id": task.pk}
    data = {"task": {"id": "x", "title": "é ✓"}, "changed": ["title"], "n": [1, 2.5, None]}

    def both() -> list[tuple[Event, bool]]:
        with transaction.atomic():
            return [
                events._write_in_steps({**fields, "actor": member}, data),
                events._write_in_one_statement({**fields, "actor": member}, data),
            ]

    (steps, steps_hooks), (one, one_hooks) = both()
    assert (steps_hooks, one_hooks) == (False, False)
    assert one.seq == steps.seq + 1
    assert one.xact_id == steps.xact_id is not None
    ignore = {"id", "seq", "created_at"}
    assert {k: v for k, v in _row(one).items() if k not in ignore} == {
        k: v for k, v in _row(steps).items() if k not in ignore
    }
    for event in (steps, one):
        assert _instance(event) == _row(event)
        assert OutboxEntry.objects.filter(event=event).count() == 1

    webhooks.webhook_create(actor=admin, project_id=project.pk, url="https://hooks.example.com/x")
    (_, steps_hooks), (_, one_hooks) = both()
    assert (steps_hooks, one_hooks) == (True, True)
