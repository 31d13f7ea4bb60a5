"""Optimistic concurrency under a real race (PostgreSQL): two updates naming the same expected
version at the same moment. Exactly one wins, the other gets `conflict`, the version rises by 1."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from django.db import connection

from tasks import services
from tasks.errors import ValidationError
from tasks.models import Event, Task
from tests.factories import make_task

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


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
    from django.db import transaction

    from tasks.errors import NotFound

    task = make_task(project, owner, title="Locked")
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():
                services._locked_task(owner, task.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")  # a wait fails the test
            with pytest.raises(NotFound):
                services.task_update(actor=outsider, task_id=task.pk, changes={"title": "Mine"})
    finally:
        release.set()
        holder.join(timeout=30)
    assert Task.objects.get(pk=task.pk).title == "Locked"
