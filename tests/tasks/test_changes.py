"""tasks.changes: delta sync. Each changed object once, in its latest version; tombstones for what
is gone; pages that stop at `first` distinct objects; cursors bound to a project, signed, and
refused once the retention job pruned past them; members only; queries flat in page size."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tasks import changes, services
from tasks.errors import NotFound
from tasks.models import Event, OutboxEntry, ProjectLog, Role
from tasks.retention import prune
from tests.factories import UserFactory, acquaint, make_project, make_task

pytestmark = pytest.mark.django_db


def sync(actor: Any, project: Any, since: str | None, first: int | None = None) -> Any:
    return changes.changes(actor, project.pk, since=since, first=first)


def head(actor: Any, project: Any) -> str:
    return changes.head_cursor(actor, project.pk)


def upload(actor: Any, task: Any, name: str = "notes.txt") -> Any:
    file = SimpleUploadedFile(name, b"Meeting notes\n", content_type="text/plain")
    return services.attachment_add(actor=actor, task_id=task.pk, file=file)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_each_changed_object_once_in_its_latest_version(project, owner, member):
    start = head(member, project)
    task = make_task(project, member, title="v1")
    for n in range(2, 5):
        task = services.task_update(actor=member, task_id=task.pk, changes={"title": f"v{n}"})
    comment = services.comment_add(actor=member, task_id=task.pk, body="first")
    services.comment_update(actor=member, comment_id=comment.pk, body="edited")
    attachment = upload(member, task)
    services.project_update(actor=owner, project_id=project.pk, changes={"name": "Renamed"})
    newcomer = UserFactory(username="nina")
    acquaint(owner, newcomer)
    services.member_add(actor=owner, project_id=project.pk, username="nina", role="viewer")
    services.member_add(actor=owner, project_id=project.pk, username="nina", role="member")

    result = sync(member, project, start)

    assert [(t.pk, t.title, t.version) for t in result.tasks] == [(task.pk, "v4", 4)]
    assert [(c.pk, c.body) for c in result.comments] == [(comment.pk, "edited")]
    assert [a.pk for a in result.attachments] == [attachment.pk]
    assert [(m.user_id, m.role) for m in result.members] == [(newcomer.pk, Role.MEMBER)]
    assert result.project is not None and result.project.name == "Renamed"
    assert result.deleted == []
    assert result.has_more is False
    assert result.seq == ProjectLog.objects.get(project=project).last_seq
    # Caught up: nothing more, and the same cursor back.
    again = sync(member, project, result.cursor)
    assert (again.tasks, again.comments, again.deleted, again.has_more) == ([], [], [], False)
    assert again.cursor == result.cursor


def test_deletions_are_tombstones_saying_what_they_belonged_to(project, owner, member, admin):
    doomed = make_task(project, member, title="Doomed")
    kept = make_task(project, member, title="Kept")
    comment = services.comment_add(actor=member, task_id=kept.pk, body="bye")
    on_doomed = services.comment_add(actor=member, task_id=doomed.pk, body="gone with its task")
    attachment = upload(member, kept)
    start = head(member, project)
    services.comment_delete(actor=member, comment_id=comment.pk)
    services.attachment_delete(actor=member, attachment_id=attachment.pk)
    services.task_update(actor=member, task_id=doomed.pk, changes={"title": "Still doomed"})
    services.task_delete(actor=member, task_id=doomed.pk)
    services.member_remove(actor=owner, project_id=project.pk, user_id=admin.pk)
    created_and_gone = make_task(project, member, title="Blink")
    services.task_delete(actor=member, task_id=created_and_gone.pk)

    result = sync(member, project, start)

    pid = project.pk
    assert result.deleted == [
        changes.Tombstone(changes.TASK, doomed.pk, pid),
        changes.Tombstone(changes.TASK, created_and_gone.pk, pid),
        changes.Tombstone(changes.COMMENT, comment.pk, pid, kept.pk),
        changes.Tombstone(changes.ATTACHMENT, attachment.pk, pid, kept.pk),
        changes.Tombstone(changes.MEMBERSHIP, admin.pk, pid),
    ]
    assert result.tasks == result.comments == result.attachments == result.members == []
    # The comment on the deleted task had no event of its own: the task's tombstone covers it.
    assert on_doomed.pk not in [t.pk for t in result.deleted if t.kind == changes.COMMENT]


def test_pages_stop_at_first_distinct_objects_and_resume_exactly(project, member):
    start = head(member, project)
    tasks = [make_task(project, member, title=f"T{n}") for n in range(7)]
    services.task_update(actor=member, task_id=tasks[0].pk, changes={"title": "T0 again"})
    services.task_update(actor=member, task_id=tasks[1].pk, changes={"title": "T1 again"})

    first = sync(member, project, start, first=3)
    assert [t.pk for t in first.tasks] == [t.pk for t in tasks[:3]]
    assert first.has_more is True
    # Consumed up to the third task's creation: the fourth creation starts the next page.
    assert first.seq == Event.objects.get(type="task.created", task_id=tasks[2].pk).seq
    second = sync(member, project, first.cursor, first=3)
    assert [t.pk for t in second.tasks] == [t.pk for t in tasks[3:6]]
    third = sync(member, project, second.cursor, first=3)
    # T6, then the updates of T0 and T1 again: each object once per page, latest version.
    assert [(t.pk, t.title) for t in third.tasks] == [
        (tasks[0].pk, "T0 again"),
        (tasks[1].pk, "T1 again"),
        (tasks[6].pk, "T6"),
    ]
    assert third.has_more is False
    # A page of exactly the remaining objects says no more.
    assert sync(member, project, second.cursor, first=100).has_more is False


def test_many_events_about_one_object_fit_one_page(project, member):
    task = make_task(project, member, title="busy")
    start = head(member, project)
    for n in range(30):
        services.task_update(actor=member, task_id=task.pk, changes={"title": f"busy {n}"})
    result = sync(member, project, start, first=1)
    assert [(t.pk, t.title) for t in result.tasks] == [(task.pk, "busy 29")]
    assert result.has_more is False


def test_the_scan_limit_bounds_a_request_and_says_more_remain(project, member, monkeypatch):
    monkeypatch.setattr(changes, "SCAN_LIMIT", 5)
    task = make_task(project, member, title="busy")
    start = head(member, project)
    for n in range(8):
        services.task_update(actor=member, task_id=task.pk, changes={"title": f"busy {n}"})
    page = sync(member, project, start)
    assert page.has_more is True and len(page.tasks) == 1
    last = sync(member, project, page.cursor)
    assert last.has_more is False and last.tasks[0].title == "busy 7"


def test_without_since_the_whole_log_while_nothing_was_pruned(project, member):
    task = make_task(project, member, title="Only")
    result = sync(member, project, None)
    assert [t.pk for t in result.tasks] == [task.pk]
    assert result.project is None  # created, never updated
    assert [m.user_id for m in result.members] == [project.created_by_id]


def test_a_cursor_of_another_project_is_refused(project, owner, member):
    other = make_project(member, name="Other")
    foreign = head(member, other)
    with pytest.raises(changes.InvalidChangesCursor):
        sync(member, project, foreign)


@pytest.mark.parametrize(
    "cursor", ["", "garbage", "1", "a:b", "x" * 600, "eyJ2IjoxLCJwIjoxLCJzIjoxfQ:bad"]
)
def test_malformed_cursors_are_refused(project, member, cursor):
    with pytest.raises(changes.InvalidChangesCursor):
        sync(member, project, cursor)


def test_a_forged_position_is_refused(project, member):
    from django.core import signing

    signer = signing.Signer(salt="tasks.keyset.cursor", algorithm="sha256")
    with pytest.raises(changes.InvalidChangesCursor):
        sync(member, project, signer.sign_object({"v": 1, "p": project.pk, "s": 0}))
    for bad in (-1, "3", True, 2**64):
        cursor = changes.encode_cursor(project.pk, bad)  # type: ignore[arg-type]
        with pytest.raises(changes.InvalidChangesCursor):
            sync(member, project, cursor)


def test_a_cursor_pruned_past_is_too_old(project, member):
    start = head(member, project)
    for n in range(3):
        make_task(project, member, title=f"Old {n}")
    Event.objects.filter(project=project).update(created_at=timezone.now() - timedelta(days=100))
    OutboxEntry.objects.all().delete()  # dispatched
    assert prune(before=timezone.now() - timedelta(days=90)) > 0
    with pytest.raises(changes.CursorTooOld):
        sync(member, project, start)
    with pytest.raises(changes.CursorTooOld):
        sync(member, project, None)  # the beginning of the log is gone too
    # A cursor taken now works.
    fresh = head(member, project)
    make_task(project, member, title="New")
    assert [t.title for t in sync(member, project, fresh).tasks] == ["New"]


def test_non_members_and_unknown_projects_are_not_found(project, member, outsider):
    cursor = head(member, project)
    with pytest.raises(NotFound):
        sync(outsider, project, cursor)
    with pytest.raises(NotFound):
        changes.head_cursor(outsider, project.pk)
    with pytest.raises(NotFound):
        changes.changes(member, 10**9, since=None)
    with pytest.raises(NotFound):
        changes.changes(member, "nope", since=None)


def test_page_size_range(project, member):
    for bad in (0, -1, 101):
        with pytest.raises(ValueError):
            sync(member, project, None, first=bad)


def _busy_project(owner: Any, member: Any, project: Any, count: int) -> str:
    start = head(member, project)
    tasks = [make_task(project, member, title=f"T{n}", assignee_id=member.pk) for n in range(count)]
    for task in tasks:
        services.comment_add(actor=member, task_id=task.pk, body="c")
        upload(member, task)
    services.project_update(actor=owner, project_id=project.pk, changes={"name": "Busy"})
    gone = make_task(project, member, title="gone")
    services.task_delete(actor=member, task_id=gone.pk)
    newcomer = UserFactory(username=f"new{count}")
    acquaint(owner, newcomer)
    services.member_add(
        actor=owner, project_id=project.pk, username=newcomer.username, role="viewer"
    )
    return start


@pytest.mark.parametrize("count", [2, 20])
def test_queries_are_flat_in_page_size(project, owner, member, count):
    start = _busy_project(owner, member, project, count)
    with CaptureQueriesContext(connection) as captured:
        result = sync(member, project, start)
    assert len(result.tasks) == count and len(result.comments) == count
    assert len(result.attachments) == count and len(result.members) == 1
    assert result.project is not None and len(result.deleted) == 1
    # membership check, replay floor, events, tasks, comments, attachments, members, project
    assert len(captured) == 8, [q["sql"] for q in captured]


def test_500_changes_to_500_tasks_take_5_requests_at_the_default_size(project, member):
    start = head(member, project)
    for n in range(500):
        make_task(project, member, title=f"T{n}")
    cursor, requests, seen = start, 0, []
    while True:
        page = sync(member, project, cursor)
        requests += 1
        seen += [t.pk for t in page.tasks]
        cursor = page.cursor
        if not page.has_more:
            break
    assert requests == 5
    assert len(seen) == len(set(seen)) == 500
