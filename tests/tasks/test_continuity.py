"""The verdict a resumed stream gives first (tasks.continuity): recovered, or why not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tasks import continuity, retention
from tasks.continuity import CURSOR_TOO_OLD, CURSOR_UNKNOWN, TOO_MANY_MISSED, ResumePoint
from tasks.models import Event, OutboxEntry, ProjectLog
from tests.factories import make_project, make_task

pytestmark = pytest.mark.django_db


def seqs(project) -> list[int]:
    return list(Event.objects.filter(project=project).order_by("seq").values_list("seq", flat=True))


@pytest.fixture
def busy(project, owner):
    """A project whose log holds a few events after the fixtures' own."""
    for n in range(5):
        make_task(project, owner, title=f"t{n}")
    # Dispatched (no commit here runs the dispatcher): pruning never passes a pending event.
    OutboxEntry.objects.all().delete()
    return project


def test_a_cursor_inside_the_log_is_recovered_from_its_seq(busy):
    head = seqs(busy)[-1]
    event = Event.objects.get(project=busy, seq=head - 2)
    assert continuity.resume_point(busy.pk, after_id=event.pk) == ResumePoint(head - 2)
    assert continuity.resume_point(busy.pk, after_seq=head - 2) == ResumePoint(head - 2)
    # Nothing missed is recovered too (the zero-missed case), and id 0 is the log's start.
    assert continuity.resume_point(busy.pk, after_seq=head) == ResumePoint(head)
    assert continuity.resume_point(busy.pk, after_id=0) == ResumePoint(0)


def test_an_id_of_another_project_or_a_seq_past_the_head_is_unknown(busy, owner):
    head = seqs(busy)[-1]
    other = make_project(owner, name="Other")
    foreign = Event.objects.filter(project=other).latest("id")
    unknown = ResumePoint(head, False, CURSOR_UNKNOWN)
    assert continuity.resume_point(busy.pk, after_id=foreign.pk) == unknown
    assert continuity.resume_point(busy.pk, after_id=10**12) == unknown
    assert continuity.resume_point(busy.pk, after_id=10**30) == unknown  # past any column
    assert continuity.resume_point(busy.pk, after_seq=head + 1) == unknown


def test_a_position_below_the_replay_floor_is_too_old(busy):
    head = seqs(busy)[-1]
    oldest = Event.objects.filter(project=busy).order_by("seq").first()
    cutoff = Event.objects.get(project=busy, seq=3).created_at + timedelta(microseconds=1)
    Event.objects.filter(project=busy, seq__gt=3).update(created_at=timezone.now())
    assert retention.prune_project(busy.pk, before=cutoff) == 3
    assert retention.replay_floor(busy.pk) == 3
    too_old = ResumePoint(head, False, CURSOR_TOO_OLD)
    assert continuity.resume_point(busy.pk, after_seq=2) == too_old
    assert continuity.resume_point(busy.pk, after_id=oldest.pk) == too_old  # a pruned event
    assert continuity.resume_point(busy.pk, after_id=0) == too_old
    # The floor itself still replays completely.
    assert continuity.resume_point(busy.pk, after_seq=3) == ResumePoint(3)


def test_more_missed_than_the_cap_is_too_many(busy, settings):
    head = seqs(busy)[-1]
    settings.EVENT_REPLAY_MAX = 4
    assert continuity.resume_point(busy.pk, after_seq=head - 4) == ResumePoint(head - 4)
    too_many = ResumePoint(head, False, TOO_MANY_MISSED)
    assert continuity.resume_point(busy.pk, after_seq=head - 5) == too_many


def test_a_task_stream_counts_only_its_task_against_the_cap(project, owner, settings):
    task = make_task(project, owner, title="Mine")
    start = seqs(project)[-1]
    for n in range(6):
        make_task(project, owner, title=f"other {n}")
    settings.EVENT_REPLAY_MAX = 2
    point = continuity.resume_point(project.pk, after_seq=start, task_id=task.pk)
    assert point == ResumePoint(start)
    assert not continuity.resume_point(project.pk, after_seq=start).recovered


def test_a_global_position_maps_to_the_project_seq(busy, owner):
    head = seqs(busy)[-1]
    other = make_project(owner, name="Other")
    position = continuity.LogPosition(Event.objects.filter(project=other).latest("id").pk)
    assert continuity.seq_of_position(busy.pk, position) == head
    assert continuity.seq_of_position(busy.pk, continuity.START) == 0


def test_the_current_position_is_where_each_project_stands_now(busy, owner):
    """Read now, the position maps to every project's head; changes made after it are after it,
    in their own project and in others (on PostgreSQL through the snapshot it keeps)."""
    other = make_project(owner, name="Other")
    heads = {busy.pk: seqs(busy)[-1], other.pk: seqs(other)[-1]}
    position = continuity.current_position()
    assert position.event_id == Event.objects.latest("id").pk
    for project_id, head in heads.items():
        assert continuity.seq_of_position(project_id, position) == head
    make_task(busy, owner, title="after the position")
    make_task(other, owner, title="after the position too")
    for project_id, head in heads.items():
        assert continuity.seq_of_position(project_id, position) == head
    assert continuity.seq_of_position(busy.pk, continuity.current_position()) == seqs(busy)[-1]


def test_the_prune_command_and_job_delete_past_the_retention_window(busy, settings):
    head = seqs(busy)[-1]
    Event.objects.filter(project=busy, seq__lte=2).update(
        created_at=timezone.now() - timedelta(days=91)
    )
    settings.EVENT_RETENTION_DAYS = 90
    call_command("prune_events")
    assert seqs(busy) == list(range(3, head + 1))
    assert ProjectLog.objects.get(project=busy).pruned_seq == 2

    from tasks.jobs import prune_events

    Event.objects.filter(project=busy, seq=3).update(created_at=timezone.now() - timedelta(days=1))
    assert prune_events() == 0  # within the window
    call_command("prune_events", "--days", "0")
    assert seqs(busy) == []
