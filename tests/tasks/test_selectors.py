"""Reads are scoped by membership; task_list filters, searches and orders as API.md says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tasks import selectors, services
from tasks.errors import NotFound
from tasks.models import Task
from tasks.selectors import TaskQuery, task_list
from tests.factories import UserFactory, acquaint, make_project, make_task

pytestmark = pytest.mark.django_db

D = date(2030, 6, 15)


@pytest.fixture
def board(project: Any, owner: Any, member: Any, admin: Any) -> dict[str, Task]:
    """Five tasks with distinct, known values in every sortable field."""
    specs = {
        "alpha": dict(status="todo", priority="urgent", due_date=D, assignee_id=member.pk),
        "bravo": dict(status="in_progress", priority="low", due_date=None, assignee_id=admin.pk),
        "charlie": dict(status="done", priority="high", due_date=D + timedelta(days=3)),
        "delta": dict(status="todo", priority="medium", due_date=D - timedelta(days=3)),
        "echo": dict(status="in_progress", priority="medium", due_date=None, assignee_id=member.pk),
    }
    base = datetime(2030, 1, 1, tzinfo=UTC)
    created_order = ["charlie", "alpha", "echo", "bravo", "delta"]
    updated_order = ["echo", "delta", "charlie", "bravo", "alpha"]
    tasks = {}
    for name, fields in specs.items():
        tasks[name] = make_task(project, owner, title=name.capitalize(), **fields)
    for name in tasks:
        Task.objects.filter(pk=tasks[name].pk).update(
            created_at=base + timedelta(hours=created_order.index(name)),
            updated_at=base + timedelta(days=1, hours=updated_order.index(name)),
        )
    return tasks


def titles(actor: Any, **query: Any) -> list[str]:
    return [task.title for task in task_list(actor, TaskQuery(**query))]


# --- Visibility ----------------------------------------------------------------------------------


def test_reads_only_show_the_actors_projects(project, task, comment, owner, outsider):
    theirs = make_project(outsider, name="Elsewhere")
    hidden = make_task(theirs, outsider, title="Hidden")
    assert list(selectors.visible_projects(owner)) == [project]
    assert list(selectors.visible_projects(outsider)) == [theirs]
    assert list(selectors.visible_tasks(outsider)) == [hidden]
    assert titles(outsider) == ["Hidden"]
    assert titles(owner, project_id=theirs.pk) == []
    assert not selectors.visible_comments(outsider).exists()
    assert list(selectors.visible_comments(owner)) == [comment]


@pytest.mark.parametrize("actor", [None, "anonymous"])
def test_anonymous_readers_see_nothing(task, actor):
    from django.contrib.auth.models import AnonymousUser

    who = AnonymousUser() if actor else None
    assert not selectors.visible_projects(who).exists()
    assert not task_list(who, TaskQuery()).exists()
    assert selectors.role_of(who, task.project_id) is None
    with pytest.raises(NotFound):
        selectors.task_get(who, task.pk)


def test_getters_raise_not_found_outside_membership(task, comment, attachment, outsider):
    getters = [
        (selectors.project_get, task.project_id),
        (selectors.task_get, task.pk),
        (selectors.comment_get, comment.pk),
        (selectors.attachment_get, attachment.pk),
        (selectors.project_members, task.project_id),
        (selectors.task_comments, task.pk),
        (selectors.task_attachments, task.pk),
        (selectors.project_events, task.project_id),
        (selectors.task_events, task.pk),
    ]
    for getter, object_id in getters:
        with pytest.raises(NotFound):
            getter(outsider, object_id)


@pytest.mark.parametrize("bad_id", [True, False, 1.5, "1.0", "", [1], {"id": 1}, 2**70])
def test_getters_do_not_coerce_odd_ids(task, owner, bad_id):
    with pytest.raises(NotFound):
        selectors.task_get(owner, bad_id)
    with pytest.raises(NotFound):
        selectors.project_get(owner, bad_id)


def test_ids_may_arrive_as_strings(task, owner):
    assert selectors.task_get(owner, str(task.pk)) == task
    assert selectors.project_get(owner, f" {task.project_id} ") == task.project


@pytest.mark.parametrize("huge", [10**30, -(10**30)])
def test_numbers_beyond_any_id_find_nothing_instead_of_failing(task, owner, huge):
    assert titles(owner, project_id=huge) == []
    assert titles(owner, assignee_id=huge) == []
    with pytest.raises(NotFound):
        selectors.task_get(owner, huge)
    expected = [] if huge > 0 else list(selectors.task_events(owner, task.pk))
    assert list(selectors.task_events(owner, task.pk, after=huge)) == expected
    assert len(list(selectors.project_events(owner, task.project_id, after=huge))) == (
        0 if huge > 0 else selectors.project_events(owner, task.project_id).count()
    )


def test_role_of_reports_each_role(project, owner, admin, member, viewer, outsider):
    assert [selectors.role_of(u, project.pk) for u in (owner, admin, member, viewer, outsider)] == [
        "owner",
        "admin",
        "member",
        "viewer",
        None,
    ]


def test_the_with_role_getters_answer_role_of_in_the_same_query(
    project, task, comment, owner, admin, member, viewer, django_assert_num_queries
):
    """The role comes from the actor's own membership row: the join the scope filters on is the
    one the annotation reads (a second join would read any member's role, or repeat the task)."""
    for actor in (owner, admin, member, viewer):
        expected = selectors.role_of(actor, project.pk)
        with django_assert_num_queries(1) as captured:
            found, role = selectors.task_and_role(actor, task.pk)
            assert (found.project, found.created_by) == (project, task.created_by)  # joined
        assert (found, role) == (task, expected)
        assert captured.captured_queries[0]["sql"].count('JOIN "tasks_membership"') == 1
        with django_assert_num_queries(1):
            found_comment, role = selectors.comment_and_role(actor, comment.pk)
            assert found_comment.task == task
        assert (found_comment, role) == (comment, expected)
        with django_assert_num_queries(1):
            found_project, role = selectors.project_and_role(actor, project.pk, lock=True)
        assert (found_project, role) == (project, expected)
        with django_assert_num_queries(1):
            found, role = selectors.task_and_role(actor, task.pk, joined=False)
        assert (found, role) == (task, expected)
        assert "project" not in found._state.fields_cache


@pytest.mark.parametrize("bad_id", [True, 1.5, "", [1], 2**70, 10**30, "nope"])
def test_the_with_role_getters_find_nothing_for_outsiders_and_odd_ids(
    task, comment, owner, outsider, bad_id
):
    from django.contrib.auth.models import AnonymousUser

    for who, task_id, comment_id in [
        (owner, bad_id, bad_id),
        (outsider, task.pk, comment.pk),
        (AnonymousUser(), task.pk, comment.pk),
        (None, task.pk, comment.pk),
    ]:
        project_id = bad_id if who is owner else task.project_id
        with pytest.raises(NotFound):
            selectors.project_and_role(who, project_id, lock=True)
        with pytest.raises(NotFound):
            selectors.task_and_role(who, task_id, lock=True)
        with pytest.raises(NotFound):
            selectors.comment_and_role(who, comment_id)


def test_event_streams_replay_after_a_cursor(task, member):
    first = selectors.task_events(member, task.pk).get()
    services.comment_add(actor=member, task_id=task.pk, body="x")
    services.task_update(actor=member, task_id=task.pk, changes={"title": "y"})
    assert [e.type for e in selectors.task_events(member, task.pk, after=first.pk)] == [
        "comment.created",
        "task.updated",
    ]
    everything = list(selectors.project_events(member, task.project_id))
    assert [e.pk for e in everything] == sorted(e.pk for e in everything)
    after_first = selectors.project_events(member, task.project_id, after=everything[0].pk)
    assert list(after_first) == everything[1:]


# --- Filters -------------------------------------------------------------------------------------


def test_filters(board, owner, member, admin):
    assert titles(owner, statuses=("todo",)) == ["Delta", "Alpha"]
    assert titles(owner, statuses=("todo", "done")) == ["Delta", "Alpha", "Charlie"]
    assert titles(owner, priorities=("medium",)) == ["Delta", "Echo"]
    assert titles(owner, priorities=("low", "urgent")) == ["Bravo", "Alpha"]
    assert titles(owner, assignee_id=member.pk) == ["Echo", "Alpha"]
    assert titles(owner, assignee_id=admin.pk) == ["Bravo"]
    assert titles(owner, unassigned=True) == ["Delta", "Charlie"]
    assert titles(owner, unassigned=False) == ["Bravo", "Echo", "Alpha"]
    assert titles(owner, due_before=D) == ["Delta"]  # strictly before
    assert titles(owner, due_after=D) == ["Charlie"]  # strictly after
    assert titles(owner, due_after=D - timedelta(days=4), due_before=D + timedelta(days=1)) == [
        "Delta",
        "Alpha",
    ]
    assert titles(owner, statuses=("in_progress",), assignee_id=member.pk) == ["Echo"]
    assert titles(owner, project_id=board["alpha"].project_id, unassigned=True) == [
        "Delta",
        "Charlie",
    ]


# --- Search --------------------------------------------------------------------------------------


@pytest.fixture
def searchable(project: Any, owner: Any) -> dict[str, Task]:
    return {
        "title": make_task(project, owner, title="Deploy the billing service"),
        "description": make_task(
            project, owner, title="Weekly chores", description="Check the deployment logs."
        ),
        "neither": make_task(project, owner, title="Write release notes", description="Soon."),
    }


def test_search_matches_title_and_description_case_insensitively(searchable, owner, outsider):
    found = {task.title for task in task_list(owner, TaskQuery(search="DEPLOY"))}
    assert found == {"Deploy the billing service", "Weekly chores"}
    assert titles(owner, search="billing") == ["Deploy the billing service"]
    assert titles(owner, search="Logs") == ["Weekly chores"]
    assert titles(owner, search="nothing-like-this") == []
    assert len(titles(owner, search="   ")) == 3  # blank search is no search
    assert titles(outsider, search="deploy") == []


def test_search_combines_with_filters(searchable, owner):
    services.task_update(actor=owner, task_id=searchable["title"].pk, changes={"status": "done"})
    assert titles(owner, search="deploy", statuses=("done",)) == ["Deploy the billing service"]
    assert titles(owner, search="deploy", statuses=("todo",)) == ["Weekly chores"]


@pytest.mark.parametrize(
    "text",
    [
        "it's",
        "a & b | !c",
        "(x",
        "100%",
        "_",
        "'; drop table tasks_task; --",
        "ümlaut ß",
        "x:*",
        "²",
        "the",
        "ⅷ ﬁ",
        "a" * 300,
        " ".join(["word"] * 40),
    ],
)
def test_search_never_fails_on_odd_input(searchable, owner, text):
    list(task_list(owner, TaskQuery(search=text)))


def test_search_words_are_all_required_in_any_order(searchable, owner):
    assert titles(owner, search="deploy bill") == ["Deploy the billing service"]
    assert titles(owner, search="billing deploy") == ["Deploy the billing service"]


# --- Ordering ------------------------------------------------------------------------------------


ORDERINGS = {
    ("created_at", False): ["Charlie", "Alpha", "Echo", "Bravo", "Delta"],
    ("created_at", True): ["Delta", "Bravo", "Echo", "Alpha", "Charlie"],
    ("updated_at", False): ["Echo", "Delta", "Charlie", "Bravo", "Alpha"],
    ("updated_at", True): ["Alpha", "Bravo", "Charlie", "Delta", "Echo"],
    ("title", False): ["Alpha", "Bravo", "Charlie", "Delta", "Echo"],
    ("title", True): ["Echo", "Delta", "Charlie", "Bravo", "Alpha"],
    # by severity, not alphabetically; equal priorities by id (Delta was made before Echo)
    ("priority", False): ["Bravo", "Delta", "Echo", "Charlie", "Alpha"],
    ("priority", True): ["Alpha", "Charlie", "Echo", "Delta", "Bravo"],
    # tasks without a due date come last in both directions
    ("due_date", False): ["Delta", "Alpha", "Charlie", "Bravo", "Echo"],
    ("due_date", True): ["Charlie", "Alpha", "Delta", "Echo", "Bravo"],
}


@pytest.mark.parametrize(("field", "descending"), list(ORDERINGS))
def test_ordering(board, owner, field, descending):
    assert titles(owner, order_field=field, descending=descending) == ORDERINGS[field, descending]


def test_the_default_order_is_newest_first(board, owner):
    assert titles(owner) == ORDERINGS["created_at", True]


def test_an_unknown_order_field_is_refused():
    with pytest.raises(ValueError):
        selectors.order_key("version", descending=False)


def test_members_list_shows_each_member_once(project, owner):
    acquaint(owner, UserFactory(username="nina"))
    services.member_add(actor=owner, project_id=project.pk, username="nina", role="viewer")
    usernames = [m.user.username for m in selectors.project_members(owner, project.pk)]
    assert sorted(usernames) == ["adam", "mia", "nina", "olivia", "victor"]
