"""Real races on PostgreSQL. Optimistic concurrency: two updates naming the same expected version
at the same moment; exactly one wins, the other gets `conflict`, the version rises by 1. The row
lock, which a non-member never takes. And a log position read between two commits that are out of
event-id order."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from tasks import services
from tasks.errors import ValidationError
from tasks.models import Event, Task
from tests.factories import make_task

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@contextlib.contextmanager
def held_open(work: Callable[[], object]) -> Iterator[None]:
    """Runs `work` in a transaction of another thread and keeps that transaction open (its locks
    held, nothing committed) for the block; it commits when the block ends."""
    done, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                work()
                done.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert done.wait(timeout=10)
        yield
    finally:
        release.set()
        holder.join(timeout=30)
    assert not holder.is_alive()


def race(task: Any, actors: list[Any]) -> list[Any]:
    """Runs one task_update per actor, all released together; returns each outcome."""
    start = threading.Barrier(len(actors))
    outcomes: list[Any] = [None] * len(actors)

    def run(index: int, actor: Any) -> None:
        try:
            start.wait(timeout=10)
            outcomes[index] = services.task_update(
                actor=actor,
                task_id=task.pk,
                changes={"title": f"Title by {actor.username}"},
                expected_version=1,
            )
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def check_one_winner(task: Any, outcomes: list[Any]) -> ValidationError:
    winners = [o for o in outcomes if isinstance(o, Task)]
    losers = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(winners), len(losers)) == (1, len(outcomes) - 1), outcomes
    assert all(loser.codes == ["conflict"] for loser in losers)
    task.refresh_from_db()
    assert task.version == 2
    assert task.title == winners[0].title
    assert Event.objects.filter(task_id=task.pk, type="task.updated").count() == 1
    return losers[0]


def test_two_concurrent_updates_with_the_same_version_one_wins(project, owner, member):
    task = make_task(project, owner, title="Contested")
    check_one_winner(task, race(task, [owner, member]))


def test_the_row_lock_makes_the_loser_see_the_winners_version(
    project, owner, member, admin, monkeypatch
):
    """Both updates are held right after they read the task, so without the row lock both would
    read version 1 and only the compare-and-set would save the day. With the lock the second
    reader waits for the first commit and sees version 2 straight away."""
    task = make_task(project, owner, title="Contested")
    arrived = threading.Barrier(2)
    original = services._check_version

    def wait_for_the_other(expected: object, current: int) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait(timeout=2)  # the locked-out thread never arrives in time
        original(expected, current)

    monkeypatch.setattr(services, "_check_version", wait_for_the_other)
    loser = check_one_winner(task, race(task, [owner, member]))
    assert "now at version 2" in loser.errors[0].message


def test_a_non_member_neither_waits_for_nor_takes_the_row_lock(project, owner, outsider):
    """The lookup that locks the task (tasks.selectors.task_and_role) filters by membership in
    the same statement: PostgreSQL locks only the rows it returns, so an outsider's update is
    `NotFound` at once, even while a member holds the lock."""
    from tasks.errors import NotFound

    task = make_task(project, owner, title="Locked")
    with held_open(lambda: services._locked_task(owner, task.pk)), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")  # a wait fails the test
        with pytest.raises(NotFound):
            services.task_update(actor=outsider, task_id=task.pk, changes={"title": "Mine"})
    assert Task.objects.get(pk=task.pk).title == "Locked"


def test_a_change_in_flight_when_the_log_position_is_read_comes_after_it(project, owner):
    """Event ids are taken at INSERT, not at commit: a change to one project can take its id,
    another project's change take a higher one and commit, and only then the first commit. A
    position read between the two commits has the higher id as its newest; counted by id alone,
    the first change would be before the position, and a fresh stream that joined its group after
    it was published would never get it. The snapshot the position keeps puts it after."""
    from tasks.continuity import current_position, seq_of_position
    from tests.factories import make_project

    slow = make_task(project, owner, title="Slow")
    other_project = make_project(owner, name="Other")
    quick = make_task(other_project, owner, title="Quick")
    # The slow change has its event's id but is not committed while the block runs.
    with held_open(
        lambda: services.task_update(actor=owner, task_id=slow.pk, changes={"title": "Slow 2"})
    ):
        services.task_update(actor=owner, task_id=quick.pk, changes={"title": "Quick 2"})
        position = current_position()
    slow_event = Event.objects.get(task_id=slow.pk, type="task.updated")
    quick_event = Event.objects.get(task_id=quick.pk, type="task.updated")
    assert slow_event.pk < quick_event.pk == position.event_id  # the interleaving happened
    # The slow change committed after the position was read: its event comes after it.
    assert seq_of_position(project.pk, position) == slow_event.seq - 1
    assert seq_of_position(other_project.pk, position) == quick_event.seq
