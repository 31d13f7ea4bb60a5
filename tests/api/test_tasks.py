"""tasks/ and tasks/{id}/: CRUD, role rules, filters, every ordering through the keyset cursor."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from graphql_relay import to_global_id

from tasks.models import PRIORITY_RANK, Task
from tests.api.conftest import assert_problem
from tests.factories import make_project, make_task

pytestmark = pytest.mark.django_db


def _create(client, project, **fields):
    return client.post("tasks/", {"project": project.pk, "title": "Write docs", **fields})


def test_member_creates_a_task(api, project, member, admin):
    response = _create(
        api(member), project, priority="high", due_date="2030-01-02", assignee=admin.pk
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["node_id"] == to_global_id("Task", body["id"])
    assert body["project"] == project.pk
    assert body["status"] == "todo" and body["priority"] == "high"
    assert body["due_date"] == "2030-01-02" and body["assignee"] == admin.pk
    assert body["created_by"] == member.pk and body["version"] == 1
    assert response["ETag"] == f'"task-{body["id"]}-v1"'
    assert response["Location"].endswith(f"/api/v1/tasks/{body['id']}/")


def test_viewer_cannot_create_and_outsider_gets_not_found(api, project, viewer, outsider):
    assert_problem(_create(api(viewer), project), 403, "permission_denied")
    assert_problem(_create(api(outsider), project), 404, "not_found")
    assert not Task.objects.exists()


def test_create_rejects_mass_assignment(api, project, member, outsider):
    response = _create(api(member), project, version=7, created_by=outsider.pk, id=99)
    body = assert_problem(response, 400, "invalid")
    assert set(body["errors"]) == {"version", "created_by", "id"}
    assert not Task.objects.exists()


def test_create_validation_problems(api, project, member, outsider):
    body = assert_problem(
        _create(api(member), project, title=" ", status="DONE", due_date="tomorrow"), 400
    )
    assert set(body["errors"]) == {"status", "due_date"}  # shape first
    body = assert_problem(_create(api(member), project, title=" ", assignee=outsider.pk), 400)
    codes = {p["name"]: p["code"] for p in body["invalid_params"]}
    assert codes == {"title": "required", "assignee": "not_a_member"}


def test_get_task_v1_and_v2_shapes(api, project, owner, member):
    task = make_task(project, owner, title="Shape", assignee_id=member.pk)
    v1 = api(owner).get(f"tasks/{task.pk}/")
    assert v1.status_code == 200 and v1["API-Version"] == "v1"
    assert v1.json()["assignee"] == member.pk and "links" not in v1.json()
    v2 = api(owner, version="v2").get(f"tasks/{task.pk}/")
    assert v2["API-Version"] == "v2"
    body = v2.json()
    assert body["assignee"] == {
        "id": member.pk,
        "node_id": to_global_id("User", member.pk),
        "username": "mia",
        "display_name": "Mia Member",
    }
    assert body["created_by"]["username"] == "olivia"
    rels = {(link["rel"], link["method"]) for link in body["links"]}
    assert {("self", "GET"), ("update", "PATCH"), ("replace", "PUT"), ("delete", "DELETE")} <= rels
    assert {("comments", "GET"), ("attachments", "GET"), ("project", "GET")} <= rels
    assert all(link["href"].startswith("http://testserver/api/v2/") for link in body["links"])


def test_outsider_gets_not_found_for_every_task_method(api, project, owner, outsider):
    task = make_task(project, owner)
    client = api(outsider)
    assert_problem(client.get(f"tasks/{task.pk}/"), 404)
    assert_problem(client.patch(f"tasks/{task.pk}/", {"title": "x"}), 404)
    assert_problem(client.put(f"tasks/{task.pk}/", {"title": "x"}), 404)
    assert_problem(client.delete(f"tasks/{task.pk}/"), 404)
    assert client.get("tasks/").json()["results"] == []


def test_patch_changes_only_given_fields(api, project, owner, member):
    task = make_task(project, owner, title="Old", description="keep", priority="low")
    response = api(member).patch(f"tasks/{task.pk}/", {"status": "done", "assignee": member.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done" and body["completed_at"] is not None
    assert body["description"] == "keep" and body["priority"] == "low"
    assert body["version"] == 2 and response["ETag"] == f'"task-{task.pk}-v2"'


def test_put_replaces_the_editable_state(api, project, owner, member):
    task = make_task(project, owner, description="old", priority="urgent", assignee_id=member.pk)
    response = api(member).put(f"tasks/{task.pk}/", {"title": "Replaced"})
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Replaced" and body["description"] == ""
    assert body["priority"] == "medium" and body["assignee"] is None
    assert_problem(api(member).put(f"tasks/{task.pk}/", {"description": "no title"}), 400)


def test_update_cannot_move_the_task_or_set_its_version(api, project, owner):
    other = make_project(owner, name="Other")
    task = make_task(project, owner)
    body = assert_problem(api(owner).patch(f"tasks/{task.pk}/", {"project": other.pk}), 400)
    assert body["errors"] == {"project": ["This field cannot be set."]}
    assert_problem(api(owner).patch(f"tasks/{task.pk}/", {"version": 9}), 400)
    task.refresh_from_db()
    assert task.project_id == project.pk and task.version == 1


def test_viewer_cannot_edit_and_member_cannot_delete_others_tasks(
    api, project, owner, member, viewer
):
    task = make_task(project, owner)
    assert_problem(api(viewer).patch(f"tasks/{task.pk}/", {"title": "x"}), 403)
    assert_problem(api(viewer).delete(f"tasks/{task.pk}/"), 403)
    assert_problem(api(member).delete(f"tasks/{task.pk}/"), 403)
    own = make_task(project, member)
    assert api(member).delete(f"tasks/{own.pk}/").status_code == 204


def test_admin_deletes_any_task(api, project, member, admin):
    task = make_task(project, member)
    assert api(admin).delete(f"tasks/{task.pk}/").status_code == 204
    assert not Task.objects.filter(pk=task.pk).exists()


# --- Filters ---------------------------------------------------------------------------------


@pytest.fixture
def board(project, owner, member):
    today = date(2030, 6, 15)
    return {
        "a": make_task(project, owner, title="Alpha release", status="todo", priority="low",
                       due_date=today, assignee_id=member.pk),
        "b": make_task(project, owner, title="Beta", description="release notes",
                       status="in_progress", priority="urgent", due_date=today + timedelta(5)),
        "c": make_task(project, owner, title="Gamma", status="done", priority="high",
                       assignee_id=owner.pk),
        "other": make_task(make_project(owner, name="Other"), owner, title="Elsewhere"),
    }  # fmt: skip


def _titles(client, **params):
    response = client.get("tasks/", params)
    assert response.status_code == 200, response.json()
    return sorted(task["title"] for task in response.json()["results"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "todo"}, ["Alpha release"]),
        ({"status": ["todo", "done"]}, ["Alpha release", "Gamma"]),
        ({"priority": "urgent"}, ["Beta"]),
        ({"priority": ["low", "high"]}, ["Alpha release", "Gamma"]),
        ({"unassigned": "true"}, ["Beta"]),
        ({"unassigned": "false"}, ["Alpha release", "Gamma"]),
        ({"due_before": "2030-06-16"}, ["Alpha release"]),
        ({"due_after": "2030-06-15"}, ["Beta"]),
        ({"search": "release"}, ["Alpha release", "Beta"]),
        ({"search": "gamm"}, ["Gamma"]),
    ],
)
def test_each_filter(api, project, owner, board, params, expected):
    assert _titles(api(owner), project=project.pk, **params) == expected


def test_assignee_and_project_filters(api, project, owner, member, board):
    assert _titles(api(owner), assignee=member.pk) == ["Alpha release"]
    assert _titles(api(owner)) == ["Alpha release", "Beta", "Elsewhere", "Gamma"]
    assert _titles(api(member)) == ["Alpha release", "Beta", "Gamma"]  # not in "Other"
    assert _titles(api(member), project=board["other"].project_id) == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "DONE"},
        {"priority": "critical"},
        {"project": "abc"},
        {"project": "99999999999999999999999"},
        {"assignee": "-1"},
        {"unassigned": "maybe"},
        {"due_before": "2030-13-01"},
        {"due_after": ""},
        {"ordering": "-nonsense"},
        {"page_size": "ten"},
        {"cursor": "not-a-cursor"},
        {"search": "x" * 201},
        {"search": "nul\x00byte"},
    ],
)
def test_bad_filter_values_are_400_problems(api, owner, board, params):
    body = assert_problem(api(owner).get("tasks/", params), 400, "invalid")
    assert set(body["errors"]) == set(params)


# --- Ordering and the keyset cursor -------------------------------------------------------------


@pytest.fixture
def many_tasks(project, owner):
    """Ties and nulls on every sort key, so the id tie-break and nulls-last are exercised."""
    priorities = ["low", "medium", "high", "urgent"]
    tasks = []
    for n in range(23):
        tasks.append(
            make_task(
                project,
                owner,
                title=f"Task {n % 7}",
                priority=priorities[n % 4],
                due_date=None if n % 3 == 0 else date(2030, 1, 1 + n % 5),
            )
        )
    return tasks


def _expected_order(tasks, field, descending):
    def key(task):
        value = PRIORITY_RANK[task.priority] if field == "priority" else getattr(task, field)
        return value

    present = [t for t in tasks if key(t) is not None]
    missing = [t for t in tasks if key(t) is None]
    present.sort(key=lambda t: (key(t), t.pk), reverse=descending)
    missing.sort(key=lambda t: t.pk, reverse=descending)
    return [t.pk for t in present + missing]


@pytest.mark.parametrize("field", ["created_at", "updated_at", "due_date", "priority", "title"])
@pytest.mark.parametrize("descending", [False, True])
def test_every_ordering_pages_forward_and_back_without_gaps_or_duplicates(
    api, owner, many_tasks, field, descending
):
    for task in many_tasks:
        task.refresh_from_db()
    ordering = f"-{field}" if descending else field
    client = api(owner)
    pages = []
    response = client.get("tasks/", {"ordering": ordering, "page_size": 5}).json()
    assert response["previous"] is None
    pages.append([t["id"] for t in response["results"]])
    while response["next"]:
        response = client.get(response["next"]).json()
        pages.append([t["id"] for t in response["results"]])
    seen = [pk for page in pages for pk in page]
    assert seen == _expected_order(many_tasks, field, descending)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    # And back again from the last page, page by page.
    back = []
    while response["previous"]:
        response = client.get(response["previous"]).json()
        back.insert(0, [t["id"] for t in response["results"]])
    assert back == pages[:-1]


def test_priority_orders_by_severity_not_alphabet(api, owner, board):
    results = api(owner).get("tasks/", {"ordering": "-priority", "project": board["a"].project_id})
    assert [t["priority"] for t in results.json()["results"]] == ["urgent", "high", "low"]


def test_page_size_is_capped_at_100(api, project, owner):
    Task.objects.bulk_create(
        [Task(project=project, title=f"T{n}", created_by=owner) for n in range(105)]
    )
    body = api(owner).get("tasks/", {"page_size": 500}).json()
    assert len(body["results"]) == 100 and body["next"]
    assert len(api(owner).get("tasks/").json()["results"]) == 25


def test_a_cursor_from_another_ordering_is_rejected(api, owner, many_tasks):
    first = api(owner).get("tasks/", {"ordering": "title", "page_size": 2}).json()
    cursor = first["next"].split("cursor=")[1].split("&")[0]
    body = assert_problem(api(owner).get("tasks/", {"ordering": "due_date", "cursor": cursor}), 400)
    assert body["errors"] == {"cursor": ["Invalid cursor."]}
