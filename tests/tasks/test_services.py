"""The services' rules: validation codes, stripping, `completed_at`, `version`, and exactly one
Event per change with the right type, project, task, actor and data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from graphql_relay import to_global_id

from tasks import events, services
from tasks.errors import ValidationError
from tasks.models import Comment, Event, Membership, Project, Role, Task
from tests.factories import UserFactory, acquaint, make_task

pytestmark = pytest.mark.django_db


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def the_one_event_since(event_id: int) -> Event:
    events = list(Event.objects.filter(id__gt=event_id))
    assert len(events) == 1, [e.type for e in events]
    return events[0]


def codes(excinfo: pytest.ExceptionInfo[ValidationError]) -> list[tuple[str | None, str]]:
    return [(e.field, e.code) for e in excinfo.value.errors]


def rejected(call: Any) -> list[tuple[str | None, str]]:
    """Runs a call that must fail validation without writing anything; returns (field, code)s."""
    before = last_event_id()
    with pytest.raises(ValidationError) as excinfo:
        call()
    assert last_event_id() == before
    assert all(e.message for e in excinfo.value.errors)
    return codes(excinfo)


# --- Projects ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": ""}, [("name", "required")]),
        ({"name": "   "}, [("name", "required")]),
        ({"name": None}, [("name", "required")]),
        ({"name": "x" * 121}, [("name", "too_long")]),
        ({"name": 5}, [("name", "invalid")]),
        ({"name": "a\x00b"}, [("name", "invalid")]),
        ({"name": "ok", "description": "d" * 2001}, [("description", "too_long")]),
        ({"name": "", "description": ["no"]}, [("name", "required"), ("description", "invalid")]),
    ],
)
def test_project_create_validation(owner, fields, expected):
    assert rejected(lambda: services.project_create(actor=owner, **fields)) == expected
    assert not Project.objects.exists()


def test_project_create_strips_the_name_and_accepts_the_limits(owner):
    before = last_event_id()
    project = services.project_create(
        actor=owner, name="  " + "n" * 120 + "  ", description="d" * 2000
    )
    assert (project.name, len(project.description)) == ("n" * 120, 2000)
    event = the_one_event_since(before)
    assert (event.type, event.project_id, event.task_id, event.actor) == (
        "member.added",
        project.pk,
        None,
        owner,
    )
    assert event.data["role"] == "OWNER"
    assert event.data["user"]["username"] == owner.username


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": ""}, [("name", "required")]),
        ({"name": "x" * 121}, [("name", "too_long")]),
        ({"description": "d" * 2001}, [("description", "too_long")]),
        ({"description": 3}, [("description", "invalid")]),
        ({"owner": 1, "created_at": None},
         [("created_at", "unknown_field"), ("owner", "unknown_field")]),
    ],
)  # fmt: skip
def test_project_update_validation(project, owner, changes, expected):
    call = lambda: services.project_update(actor=owner, project_id=project.pk, changes=changes)  # noqa: E731
    assert rejected(call) == expected
    project.refresh_from_db()
    assert project.name == "Apollo"


def test_project_update_records_the_changed_fields(project, owner):
    before = last_event_id()
    updated = services.project_update(
        actor=owner, project_id=project.pk, changes={"name": " Apollo 2 ", "description": ""}
    )
    assert updated.name == "Apollo 2"
    event = the_one_event_since(before)
    assert (event.type, event.project_id, event.task_id, event.actor) == (
        "project.updated",
        project.pk,
        None,
        owner,
    )
    assert event.data["changedFields"] == ["name"]
    assert event.data["name"] == "Apollo 2"
    assert event.data["id"] == to_global_id("Project", project.pk)


def test_a_project_update_that_changes_nothing_records_nothing(project, owner):
    before = last_event_id()
    services.project_update(actor=owner, project_id=project.pk, changes={"name": "Apollo"})
    services.project_update(actor=owner, project_id=project.pk, changes={})
    assert last_event_id() == before


def test_project_delete_takes_everything_with_it(project, owner, task, comment):
    services.project_delete(actor=owner, project_id=project.pk)
    assert not Task.objects.exists()
    assert not Comment.objects.exists()
    assert not Membership.objects.exists()
    assert not Event.objects.exists()


# --- Members -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "role", "expected"),
    [
        ("nina", "superuser", [("role", "invalid_choice")]),
        ("nina", None, [("role", "invalid_choice")]),
        ("nina", "OWNER", [("role", "invalid_choice")]),
        ("", "member", [("username", "required")]),
        (None, "member", [("username", "required")]),
        ("nobody", "member", [("username", "not_found")]),
        ("inactive", "member", [("username", "not_found")]),
        ("nobody", "boss", [("role", "invalid_choice"), ("username", "not_found")]),
    ],
)
def test_member_add_validation(project, owner, username, role, expected):
    acquaint(owner, UserFactory(username="nina"), UserFactory(username="inactive", is_active=False))
    call = lambda: services.member_add(  # noqa: E731
        actor=owner, project_id=project.pk, username=username, role=role
    )
    assert rejected(call) == expected
    assert Membership.objects.filter(project=project).count() == 4


def test_member_add_adds_and_then_changes_the_role(project, owner):
    nina = UserFactory(username="nina")
    acquaint(owner, nina)
    before = last_event_id()
    membership = services.member_add(
        actor=owner, project_id=project.pk, username=" nina ", role="viewer"
    )
    event = the_one_event_since(before)
    assert (membership.user, membership.role) == (nina, Role.VIEWER)
    assert (event.type, event.project_id, event.task_id, event.actor) == (
        "member.added",
        project.pk,
        None,
        owner,
    )
    assert (event.data["user"]["username"], event.data["role"]) == ("nina", "VIEWER")

    before = last_event_id()
    services.member_add(actor=owner, project_id=project.pk, username="nina", role="admin")
    assert the_one_event_since(before).data["role"] == "ADMIN"
    assert Membership.objects.get(project=project, user=nina).role == Role.ADMIN

    before = last_event_id()
    services.member_add(actor=owner, project_id=project.pk, username="nina", role="admin")
    assert last_event_id() == before  # the same role again changes nothing


def test_the_last_owner_cannot_step_down_or_leave(project, owner):
    demote = lambda: services.member_add(  # noqa: E731
        actor=owner, project_id=project.pk, username=owner.username, role="admin"
    )
    leave = lambda: services.member_remove(  # noqa: E731
        actor=owner, project_id=project.pk, user_id=owner.pk
    )
    assert rejected(demote) == [("role", "last_owner")]
    assert rejected(leave) == [("role", "last_owner")]
    assert Membership.objects.get(project=project, user=owner).role == Role.OWNER


def test_an_owner_may_step_down_once_there_is_another(project, owner, admin):
    services.member_add(actor=owner, project_id=project.pk, username="adam", role="owner")
    services.member_add(actor=owner, project_id=project.pk, username="olivia", role="member")
    assert Membership.objects.get(project=project, user=owner).role == Role.MEMBER
    before = last_event_id()
    services.member_remove(actor=admin, project_id=project.pk, user_id=owner.pk)
    event = the_one_event_since(before)
    assert (event.type, event.project_id, event.actor) == ("member.removed", project.pk, admin)
    assert (event.data["user"]["username"], event.data["role"]) == ("olivia", "MEMBER")
    assert event.data["projectId"] == to_global_id("Project", project.pk)


# --- Tasks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": ""}, [("title", "required")]),
        ({"title": " \t\n "}, [("title", "required")]),
        ({"title": None}, [("title", "required")]),
        ({"title": "t" * 201}, [("title", "too_long")]),
        ({"title": 12}, [("title", "invalid")]),
        ({"description": "d" * 10_001}, [("description", "too_long")]),
        ({"description": "a\x00"}, [("description", "invalid")]),
        ({"status": "finished"}, [("status", "invalid_choice")]),
        ({"status": "DONE"}, [("status", "invalid_choice")]),
        ({"priority": "critical"}, [("priority", "invalid_choice")]),
        ({"priority": None}, [("priority", "invalid_choice")]),
        ({"due_date": "2030-01-01"}, [("due_date", "invalid")]),
        ({"due_date": datetime(2030, 1, 1)}, [("due_date", "invalid")]),
        ({"assignee_id": "abc"}, [("assignee_id", "invalid")]),
        ({"assignee_id": [1]}, [("assignee_id", "invalid")]),
        ({"assignee_id": True}, [("assignee_id", "invalid")]),
        ({"assignee_id": 999_999}, [("assignee_id", "not_a_member")]),
        ({"assignee_id": 10**30}, [("assignee_id", "not_a_member")]),
        (
            {"title": "", "status": "x", "priority": "y"},
            [("title", "required"), ("status", "invalid_choice"), ("priority", "invalid_choice")],
        ),
    ],
)
def test_task_create_validation(project, member, fields, expected):
    fields.setdefault("title", "A task")
    call = lambda: services.task_create(actor=member, project_id=project.pk, **fields)  # noqa: E731
    assert rejected(call) == expected
    assert not Task.objects.exists()


def test_task_create_rejects_an_assignee_from_outside_the_project(project, member, outsider):
    call = lambda: services.task_create(  # noqa: E731
        actor=member, project_id=project.pk, title="x", assignee_id=outsider.pk
    )
    assert rejected(call) == [("assignee_id", "not_a_member")]


def test_task_create_defaults_strips_and_records_one_event(project, member, viewer):
    before = last_event_id()
    task = services.task_create(
        actor=member,
        project_id=project.pk,
        title="  Ship it \n",
        description="  kept as written  ",
        due_date=date(2030, 5, 1),
        assignee_id=str(viewer.pk),
    )
    assert (task.title, task.description) == ("Ship it", "  kept as written  ")
    assert (task.status, task.priority, task.version) == ("todo", "medium", 1)
    assert (task.completed_at, task.created_by, task.assignee) == (None, member, viewer)
    event = the_one_event_since(before)
    assert (event.type, event.project_id, event.task_id, event.actor) == (
        "task.created",
        project.pk,
        task.pk,
        member,
    )
    data = event.data
    assert data["id"] == to_global_id("Task", task.pk)
    assert (data["title"], data["status"], data["priority"]) == ("Ship it", "TODO", "MEDIUM")
    assert (data["dueDate"], data["version"], data["completedAt"]) == ("2030-05-01", 1, None)
    assert data["assignee"]["username"] == viewer.username
    assert data["createdBy"]["displayName"] == "Mia Member"


def test_task_create_accepts_the_limits(project, member):
    task = services.task_create(
        actor=member, project_id=project.pk, title="t" * 200, description="d" * 10_000
    )
    assert (len(task.title), len(task.description)) == (200, 10_000)


def test_a_task_created_done_is_completed(project, member):
    task = make_task(project, member, status="done")
    assert task.completed_at is not None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"title": "  "}, [("title", "required")]),
        ({"title": "t" * 201}, [("title", "too_long")]),
        ({"description": "d" * 10_001}, [("description", "too_long")]),
        ({"status": "blocked"}, [("status", "invalid_choice")]),
        ({"priority": 3}, [("priority", "invalid_choice")]),
        ({"due_date": "tomorrow"}, [("due_date", "invalid")]),
        ({"assignee_id": "me"}, [("assignee_id", "invalid")]),
        ({"assignee_id": 999_999}, [("assignee_id", "not_a_member")]),
        ({"version": 7}, [("version", "unknown_field")]),
        ({"project_id": 2, "title": "x"}, [("project_id", "unknown_field")]),
        ({"created_by": None}, [("created_by", "unknown_field")]),
    ],
)
def test_task_update_validation(task, member, changes, expected):
    call = lambda: services.task_update(actor=member, task_id=task.pk, changes=changes)  # noqa: E731
    assert rejected(call) == expected
    task.refresh_from_db()
    assert (task.title, task.version) == ("Write the docs", 1)


def test_task_update_bumps_the_version_and_names_the_changed_fields(task, admin, viewer):
    before = last_event_id()
    updated = services.task_update(
        actor=admin,
        task_id=task.pk,
        changes={
            "title": "  Write the docs  ",  # the same once stripped: not a change
            "priority": "urgent",
            "due_date": date(2030, 1, 2),
            "assignee_id": viewer.pk,
        },
        expected_version=1,
    )
    assert (updated.version, updated.priority, updated.assignee) == (2, "urgent", viewer)
    event = the_one_event_since(before)
    assert (event.type, event.project_id, event.task_id, event.actor) == (
        "task.updated",
        task.project_id,
        task.pk,
        admin,
    )
    assert event.data["changedFields"] == ["priority", "dueDate", "assignee"]
    assert (event.data["version"], event.data["priority"]) == (2, "URGENT")

    updated = services.task_update(actor=admin, task_id=task.pk, changes={"assignee_id": None})
    assert (updated.version, updated.assignee) == (3, None)
    task.refresh_from_db()
    assert task.version == 3


def _as_stored(task: Task) -> dict[str, Any]:
    fields = {f.attname: getattr(task, f.attname) for f in Task._meta.concrete_fields}
    related = {name: getattr(task, name) for name in ("project", "assignee", "created_by")}
    return {**fields, **related, "payload": events.task_data(task)}


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "Retitled", "description": "Écrit"},  # search_text follows
        {"status": "done"},  # completed_at is set
        {"assignee_id": "viewer", "priority": "high", "due_date": date(2031, 2, 3)},
        {"assignee_id": None},
    ],
)
def test_the_updated_task_returned_is_the_row_as_stored(task, member, viewer, changes):
    """task_update applies its changes to the instance it locked instead of reading the row back:
    what it returns and what its event says must be exactly what a fresh read gives."""
    services.task_update(actor=member, task_id=task.pk, changes={"assignee_id": member.pk})
    changes = {k: viewer.pk if v == "viewer" else v for k, v in changes.items()}

    updated = services.task_update(actor=member, task_id=task.pk, changes=changes)

    stored = Task.objects.select_related("project", "assignee", "created_by").get(pk=task.pk)
    assert _as_stored(updated) == _as_stored(stored)
    event = Event.objects.latest("id")
    assert {k: v for k, v in event.data.items() if k != "changedFields"} == events.task_data(stored)
    if "assignee_id" in changes:
        expected = viewer.username if changes["assignee_id"] else None
        assert (updated.assignee.username if updated.assignee else None) == expected


def test_a_created_task_is_the_row_as_stored(project, member, viewer):
    created = services.task_create(
        actor=member,
        project_id=project.pk,
        title="Fresh",
        status="done",
        assignee_id=viewer.pk,
        due_date=date(2031, 1, 1),
    )
    stored = Task.objects.select_related("project", "assignee", "created_by").get(pk=created.pk)
    assert _as_stored(created) == _as_stored(stored)
    assert Event.objects.latest("id").data == events.task_data(stored)


def test_a_task_update_that_changes_nothing_keeps_the_version(task, member):
    before = last_event_id()
    same = services.task_update(
        actor=member,
        task_id=task.pk,
        changes={"title": "Write the docs", "status": "todo", "assignee_id": None},
        expected_version=1,
    )
    assert same.version == 1
    assert services.task_update(actor=member, task_id=task.pk, changes={}).version == 1
    assert last_event_id() == before
    task.refresh_from_db()
    assert task.version == 1


def test_completed_at_is_set_on_done_and_cleared_when_it_leaves(task, member):
    done = services.task_update(actor=member, task_id=task.pk, changes={"status": "done"})
    assert done.completed_at is not None
    event = Event.objects.latest("id")
    assert event.data["completedAt"] == done.completed_at.isoformat()
    assert event.data["changedFields"] == ["status"]

    retitled = services.task_update(actor=member, task_id=task.pk, changes={"title": "Docs"})
    assert retitled.completed_at == done.completed_at  # other changes keep it

    reopened = services.task_update(
        actor=member, task_id=task.pk, changes={"status": "in_progress"}
    )
    assert (reopened.completed_at, reopened.version) == (None, 4)
    assert Event.objects.latest("id").data["completedAt"] is None


@pytest.mark.parametrize("stale", [0, 2, 99])
def test_a_stale_expected_version_changes_nothing(task, member, stale):
    call = lambda: services.task_update(  # noqa: E731
        actor=member, task_id=task.pk, changes={"title": "Mine"}, expected_version=stale
    )
    assert rejected(call) == [("expected_version", "conflict")]
    task.refresh_from_db()
    assert (task.title, task.version) == ("Write the docs", 1)


@pytest.mark.parametrize("bad", ["1", True, 1.0])
def test_an_expected_version_must_be_a_number(task, member, bad):
    call = lambda: services.task_update(  # noqa: E731
        actor=member, task_id=task.pk, changes={"title": "Mine"}, expected_version=bad
    )
    assert rejected(call) == [("expected_version", "invalid")]


def test_the_compare_and_set_catches_a_change_made_after_the_read(task, member, monkeypatch):
    """If the version moved between the read and the write (SQLite has no row lock), the write
    changes nothing and reports `conflict`."""
    original = services._check_version

    def someone_else_writes_now(expected: object, current: int) -> None:
        original(expected, current)
        Task.objects.filter(pk=task.pk).update(version=current + 1, title="Theirs")

    monkeypatch.setattr(services, "_check_version", someone_else_writes_now)
    call = lambda: services.task_update(  # noqa: E731
        actor=member, task_id=task.pk, changes={"title": "Mine"}, expected_version=1
    )
    assert rejected(call) == [("expected_version", "conflict")]
    task.refresh_from_db()
    # The stand-in for the other writer ran in this transaction, so it is rolled back too.
    assert (task.title, task.version) == ("Write the docs", 1)


def test_task_delete_records_one_event_and_checks_the_version(task, member):
    call = lambda: services.task_delete(actor=member, task_id=task.pk, expected_version=5)  # noqa: E731
    assert rejected(call) == [("expected_version", "conflict")]
    before = last_event_id()
    assert services.task_delete(actor=member, task_id=task.pk, expected_version=1) == task.pk
    event = the_one_event_since(before)
    assert (event.type, event.project_id, event.task_id, event.actor) == (
        "task.deleted",
        task.project_id,
        task.pk,
        member,
    )
    assert event.data["id"] == to_global_id("Task", task.pk)
    assert not Task.objects.filter(pk=task.pk).exists()


# --- Comments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", [("body", "required")]),
        ("   ", [("body", "required")]),
        (None, [("body", "required")]),
        ("b" * 5001, [("body", "too_long")]),
        (42, [("body", "invalid")]),
        ("\x00", [("body", "invalid")]),
    ],
)
def test_comment_validation(task, comment, member, body, expected):
    add = lambda: services.comment_add(actor=member, task_id=task.pk, body=body)  # noqa: E731
    edit = lambda: services.comment_update(actor=member, comment_id=comment.pk, body=body)  # noqa: E731
    assert rejected(add) == expected
    assert rejected(edit) == expected
    comment.refresh_from_db()
    assert (comment.body, comment.edited_at) == ("First!", None)
    assert Comment.objects.count() == 1


def test_comment_add_strips_and_records_one_event(task, admin):
    before = last_event_id()
    comment = services.comment_add(actor=admin, task_id=task.pk, body="  " + "b" * 5000 + " ")
    assert comment.body == "b" * 5000
    assert (comment.author, comment.edited_at) == (admin, None)
    event = the_one_event_since(before)
    assert (event.type, event.project_id, event.task_id, event.actor) == (
        "comment.created",
        task.project_id,
        task.pk,
        admin,
    )
    assert event.data["id"] == to_global_id("Comment", comment.pk)
    assert event.data["taskId"] == to_global_id("Task", task.pk)
    assert (event.data["body"], event.data["author"]["username"]) == ("b" * 5000, "adam")


def test_comment_update_marks_it_edited_once_per_change(task, comment, member):
    before = last_event_id()
    edited = services.comment_update(actor=member, comment_id=comment.pk, body=" Second ")
    assert (edited.body, edited.edited_at is not None) == ("Second", True)
    event = the_one_event_since(before)
    assert (event.type, event.task_id, event.actor) == ("comment.updated", task.pk, member)
    assert event.data["editedAt"] == edited.edited_at.isoformat()

    before = last_event_id()
    services.comment_update(actor=member, comment_id=comment.pk, body="Second")
    assert last_event_id() == before


def test_comment_delete_records_one_event(task, comment, admin):
    before = last_event_id()
    assert services.comment_delete(actor=admin, comment_id=comment.pk) == comment.pk
    event = the_one_event_since(before)
    assert (event.type, event.project_id, event.task_id, event.actor) == (
        "comment.deleted",
        task.project_id,
        task.pk,
        admin,
    )
    assert event.data["id"] == to_global_id("Comment", comment.pk)
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_removing_a_member_unassigns_their_tasks_with_one_event_each(project, owner, member):
    from tasks.models import Event

    first = services.task_create(
        actor=owner, project_id=project.pk, title="A", assignee_id=member.pk
    )
    second = services.task_create(
        actor=owner, project_id=project.pk, title="B", assignee_id=member.pk
    )
    other = services.task_create(
        actor=owner, project_id=project.pk, title="C", assignee_id=owner.pk
    )
    services.member_remove(actor=owner, project_id=project.pk, user_id=member.pk)

    for task in (first, second):
        task.refresh_from_db()
        assert task.assignee_id is None
        assert task.version == 2
    other.refresh_from_db()
    assert other.assignee_id == owner.pk and other.version == 1
    updates = Event.objects.filter(project=project, type=Event.Type.TASK_UPDATED)
    assert sorted(updates.values_list("task_id", flat=True)) == sorted([first.pk, second.pk])
    assert all(e.data["changedFields"] == ["assignee"] for e in updates)
