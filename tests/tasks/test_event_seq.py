"""`Event.seq`: every project's log numbered 1, 2, 3... with no gaps, in the change's transaction
(tasks.events._next_seq), carried in every event payload; existing logs numbered by migration."""

from __future__ import annotations

import importlib
import threading

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tasks import services
from tasks.events import event_payload
from tasks.models import Event, OutboxEntry, Project, ProjectLog
from tests.factories import make_task

pytestmark = pytest.mark.django_db


def seqs(project: Project) -> list[int]:
    return list(Event.objects.filter(project=project).order_by("id").values_list("seq", flat=True))


def test_each_project_numbers_its_events_from_one_without_gaps(project, owner, member):
    other = services.project_create(actor=owner, name="Other")
    before = seqs(project)
    assert before == list(range(1, len(before) + 1))
    for index in range(3):
        make_task(project, member, title=f"T{index}")
    make_task(other, owner)
    assert seqs(project) == list(range(1, len(before) + 4))
    assert seqs(other) == [1, 2]  # member.added for the creator, then the task
    assert ProjectLog.objects.get(project=project).last_seq == len(before) + 3


def test_the_payload_carries_the_seq(project, member):
    make_task(project, member)
    event = Event.objects.filter(project=project).latest("id")
    assert (
        event_payload(event)["seq"] == event.seq == ProjectLog.objects.get(project=project).last_seq
    )


def test_a_rolled_back_change_gives_its_number_back(project, member):
    last = ProjectLog.objects.get(project=project).last_seq

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        make_task(project, member, title="Never")
        raise Abort
    make_task(project, member, title="Kept")
    assert Event.objects.filter(project=project).latest("id").seq == last + 1


def test_the_migration_numbers_existing_logs_in_id_order(project, owner, member):
    make_task(project, member)
    other = services.project_create(actor=owner, name="Other")
    make_task(other, owner)
    expected = {p.pk: seqs(p) for p in (project, other)}
    # Scramble the numbers and forget the heads, as before the migration.
    for event in Event.objects.order_by("-id"):
        Event.objects.filter(pk=event.pk).update(seq=10_000 + event.pk)
    ProjectLog.objects.all().delete()
    migration = importlib.import_module("tasks.migrations.0007_event_seq")
    migration.number_existing_events(apps, None)
    assert {p.pk: seqs(p) for p in (project, other)} == expected
    assert ProjectLog.objects.get(project=project).last_seq == len(expected[project.pk])
    make_task(project, member)
    assert seqs(project)[-1] == len(expected[project.pk]) + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_to_one_project_take_consecutive_numbers(project, member):
    """Eight writers at once: each waits on the log row (held until its commit), so the numbers
    are unique and gap-free."""
    start_seq = ProjectLog.objects.get(project=project).last_seq
    writers = 8
    barrier = threading.Barrier(writers)
    committed: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                task = make_task(project, member, title=f"Concurrent {index}")
                seq = Event.objects.get(task_id=task.pk).seq
            with lock:
                committed.append(seq)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(committed) == list(range(start_seq + 1, start_seq + writers + 1))
    numbers = seqs(project)
    assert sorted(numbers) == list(range(1, len(numbers) + 1))


def test_pruning_deletes_a_prefix_and_raises_the_floor(project, member):
    from datetime import timedelta

    from django.utils import timezone

    from tasks.retention import prune, replay_floor

    for index in range(4):
        make_task(project, member, title=f"Old {index}")
    Event.objects.filter(project=project).update(created_at=timezone.now() - timedelta(days=100))
    old_last = ProjectLog.objects.get(project=project).last_seq
    make_task(project, member, title="Recent")
    assert replay_floor(project.pk) == 0
    # An old event still waiting in the outbox stops pruning just before it.
    waiting = OutboxEntry.objects.filter(event__project=project).order_by("event__seq")
    stuck = waiting.filter(event__seq=old_last - 1).values_list("pk", flat=True)
    OutboxEntry.objects.exclude(pk__in=list(stuck)).delete()
    assert prune(before=timezone.now() - timedelta(days=90)) == old_last - 2
    assert replay_floor(project.pk) == old_last - 2
    OutboxEntry.objects.all().delete()  # dispatched
    assert prune(before=timezone.now() - timedelta(days=90)) == 2
    assert replay_floor(project.pk) == old_last
    assert seqs(project) == [old_last + 1]
    assert prune(before=timezone.now() - timedelta(days=90)) == 0  # idempotent
    make_task(project, member, title="After")
    assert seqs(project) == [old_last + 1, old_last + 2]


def _current_xact() -> int | None:
    """This transaction's id on PostgreSQL; None elsewhere (what `Event.xact_id` should hold)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_an_event_carries_its_writers_transaction_id_from_the_insert_itself(project, member):
    """`Event.xact_id` is the column's database default: the INSERT fills it in and returns it,
    so the instance holds the number (not an expression), with no statement of its own."""
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            event = Event.objects.create(project=project, seq=10_000, type="task.updated")
        assert len(captured) == 1
        # SQLite's writers take turns: there it is None, nothing to tell apart.
        assert event.xact_id == _current_xact()  # the instance, as created
        assert Event.objects.get(pk=event.pk).xact_id == event.xact_id
    written = event.xact_id
    event.data = {"saved": "again"}
    event.save()  # in a transaction of its own: the row keeps the writer it had
    assert Event.objects.get(pk=event.pk).xact_id == written


def test_an_insert_that_does_not_name_the_column_still_records_its_transaction(project, member):
    """A writer that does not know `xact_id` (an older release during a rolling deploy) still
    records its transaction on PostgreSQL: the column's default does it."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Event._meta.db_table)
            cursor.execute(
                f"INSERT INTO {table} (project_id, seq, type, data, created_at)"  # noqa: S608
                " VALUES (%s, %s, 'task.updated', '{}', %s)",
                [project.pk, 10_000, timezone.now()],
            )
        assert Event.objects.get(project=project, seq=10_000).xact_id == _current_xact()
