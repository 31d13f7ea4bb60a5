"""ETag / If-None-Match / If-Match on tasks, and Idempotency-Key on POSTs."""

from __future__ import annotations

import pytest

from tasks import idempotency
from tasks.api.idempotent import SCOPE
from tasks.models import Project, Task
from tests.api.conftest import assert_problem
from tests.factories import make_task

pytestmark = pytest.mark.django_db


def test_etag_and_if_none_match_304(api, project, owner):
    task = make_task(project, owner)
    client = api(owner)
    first = client.get(f"tasks/{task.pk}/")
    etag = first["ETag"]
    assert etag == f'"task-{task.pk}-v1"'
    second = client.get(f"tasks/{task.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert second.status_code == 304 and second["ETag"] == etag and not second.content
    assert client.get(f"tasks/{task.pk}/", HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    assert client.get(f"tasks/{task.pk}/", HTTP_IF_NONE_MATCH="*").status_code == 304
    client.patch(f"tasks/{task.pk}/", {"title": "changed"})
    third = client.get(f"tasks/{task.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert third.status_code == 200 and third["ETag"] == f'"task-{task.pk}-v2"'


@pytest.mark.parametrize("method", ["put", "patch"])
def test_if_match_current_etag_updates(api, project, owner, method):
    task = make_task(project, owner)
    client = api(owner)
    etag = client.get(f"tasks/{task.pk}/")["ETag"]
    response = getattr(client, method)(f"tasks/{task.pk}/", {"title": "new"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200 and response.json()["version"] == 2


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_if_match_stale_etag_is_412_and_changes_nothing(api, project, owner, member, method):
    task = make_task(project, owner, title="orig")
    stale = api(owner).get(f"tasks/{task.pk}/")["ETag"]
    api(member).patch(f"tasks/{task.pk}/", {"description": "someone else"})
    client = api(owner)
    if method == "delete":
        response = client.delete(f"tasks/{task.pk}/", HTTP_IF_MATCH=stale)
    else:
        response = getattr(client, method)(
            f"tasks/{task.pk}/", {"title": "mine"}, HTTP_IF_MATCH=stale
        )
    assert_problem(response, 412, "precondition_failed")
    task.refresh_from_db()
    assert task.title == "orig" and task.version == 2


def test_if_match_garbage_or_weak_tag_is_412(api, project, owner):
    task = make_task(project, owner)
    client = api(owner)
    etag = client.get(f"tasks/{task.pk}/")["ETag"]
    for header in ["garbage", f"W/{etag}", '"task-999-v1"']:
        assert_problem(client.patch(f"tasks/{task.pk}/", {"title": "x"}, HTTP_IF_MATCH=header), 412)
    assert client.delete(f"tasks/{task.pk}/", HTTP_IF_MATCH=f'"nope", {etag}').status_code == 204


def test_if_match_on_a_non_member_is_still_not_found(api, project, owner, outsider):
    task = make_task(project, owner)
    assert_problem(api(outsider).patch(f"tasks/{task.pk}/", {"title": "x"}, HTTP_IF_MATCH="*"), 404)


def test_a_conflict_found_by_the_service_under_if_match_is_412(api, project, owner, monkeypatch):
    """The race: the task changes between the view's version read and the service's lock."""
    from tasks import selectors
    from tasks.api.views import tasks as task_views

    task = make_task(project, owner)
    etag = api(owner).get(f"tasks/{task.pk}/")["ETag"]
    real_get = selectors.task_get

    def get_then_someone_writes(actor, task_id):
        found = real_get(actor, task_id)
        Task.objects.filter(pk=task.pk).update(version=found.version + 1)
        return found

    monkeypatch.setattr(task_views.selectors, "task_get", get_then_someone_writes)
    response = api(owner).patch(f"tasks/{task.pk}/", {"title": "x"}, HTTP_IF_MATCH=etag)
    assert_problem(response, 412, "precondition_failed")
    assert Task.objects.get(pk=task.pk).title == "A task"


# --- Idempotency-Key ------------------------------------------------------------------------------


def test_same_key_and_body_replays_the_first_response(api, project, owner):
    client = api(owner)
    body = {"project": project.pk, "title": "Once"}
    first = client.post("tasks/", body, HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("tasks/", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert second["Location"] == first["Location"]
    assert "Idempotent-Replayed" not in first
    assert Task.objects.filter(title="Once").count() == 1


def test_same_key_with_another_body_is_422(api, owner):
    client = api(owner)
    assert client.post("projects/", {"name": "A"}, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    response = client.post("projects/", {"name": "B"}, HTTP_IDEMPOTENCY_KEY="k")
    assert_problem(response, 422, "idempotency_key_reused")
    assert not Project.objects.filter(name="B").exists()


def test_same_key_on_another_path_is_422(api, project, owner):
    client = api(owner)
    client.post("projects/", {"name": "A"}, HTTP_IDEMPOTENCY_KEY="k")
    assert_problem(client.post("tasks/", {"name": "A"}, HTTP_IDEMPOTENCY_KEY="k"), 422)


def test_duplicate_while_in_flight_is_409(api, owner):
    body = b'{"name": "Slow"}'
    path = "/api/v1/projects/"
    fingerprint = idempotency.fingerprint("POST", path, body)
    idempotency.begin(
        scope=SCOPE, user_key=f"user:{owner.pk}", key="busy", request_fingerprint=fingerprint
    )
    response = api(owner).client.post(
        path, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert_problem(response, 409, "idempotency_key_in_flight")
    assert not Project.objects.filter(name="Slow").exists()


def test_keys_are_per_user(api, owner, member):
    api(owner).post("projects/", {"name": "Mine"}, HTTP_IDEMPOTENCY_KEY="shared")
    theirs = api(member).post("projects/", {"name": "Mine"}, HTTP_IDEMPOTENCY_KEY="shared")
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert theirs.json()["created_by"] == member.pk
    assert Project.objects.filter(name="Mine").count() == 2


def test_a_validation_error_is_replayed_too(api, owner):
    client = api(owner)
    first = client.post("projects/", {"name": " "}, HTTP_IDEMPOTENCY_KEY="bad")
    again = client.post("projects/", {"name": " "}, HTTP_IDEMPOTENCY_KEY="bad")
    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"].startswith("application/problem+json")


def test_a_server_failure_releases_the_key(api, owner, monkeypatch):
    from tasks.api.views import projects as project_views

    client = api(owner)
    client.client.raise_request_exception = False
    with monkeypatch.context() as patched:
        patched.setattr(
            project_views.services, "project_create", lambda **kw: (_ for _ in ()).throw(OSError())
        )
        assert (
            client.post("projects/", {"name": "X"}, HTTP_IDEMPOTENCY_KEY="retry").status_code == 500
        )
    retried = client.post("projects/", {"name": "X"}, HTTP_IDEMPOTENCY_KEY="retry")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried


def test_an_invalid_key_is_400(api, owner):
    assert_problem(
        api(owner).post("projects/", {"name": "X"}, HTTP_IDEMPOTENCY_KEY="x" * 300),
        400,
        "invalid_idempotency_key",
    )
