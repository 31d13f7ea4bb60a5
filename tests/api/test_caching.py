"""The server-side response cache of task lists and details: used, and never stale after a write."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tasks import services
from tasks.models import Membership, Task
from tests.factories import make_task, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_on(settings: Any, _response_cache_off: None) -> None:
    settings.API_CACHE_SECONDS = 60


def test_repeated_reads_are_served_from_the_cache(api, project, owner):
    task = make_task(project, owner, title="Cached")
    client = api(owner)
    assert client.get("tasks/").json()["results"][0]["title"] == "Cached"
    assert client.get(f"tasks/{task.pk}/").json()["title"] == "Cached"
    # A change that bypasses the services (so no event, no generation bump) stays invisible:
    # proof that the cache answered.
    Task.objects.filter(pk=task.pk).update(title="Sneaky")
    assert client.get("tasks/").json()["results"][0]["title"] == "Cached"
    cached = client.get(f"tasks/{task.pk}/")
    assert cached.json()["title"] == "Cached" and cached["ETag"] == f'"task-{task.pk}-v1"'
    assert client.get(f"tasks/{task.pk}/", HTTP_IF_NONE_MATCH=cached["ETag"]).status_code == 304


def test_a_committed_write_makes_the_next_read_fresh(
    api, project, owner, member, django_capture_on_commit_callbacks
):
    task = make_task(project, owner, title="Before")
    reader = api(member)
    assert reader.get("tasks/").json()["results"][0]["title"] == "Before"
    assert reader.get(f"tasks/{task.pk}/").json()["title"] == "Before"
    with django_capture_on_commit_callbacks(execute=True):  # the commit, as in production
        assert api(owner).patch(f"tasks/{task.pk}/", {"title": "After"}).status_code == 200
    assert reader.get("tasks/").json()["results"][0]["title"] == "After"
    assert reader.get(f"tasks/{task.pk}/").json()["title"] == "After"
    assert reader.get(f"tasks/{task.pk}/")["ETag"] == f'"task-{task.pk}-v2"'


def test_cache_entries_are_per_user_and_per_version(api, project, owner, member):
    make_task(project, owner, assignee_id=member.pk)
    v1 = api(owner).get("tasks/").json()["results"][0]
    v2 = api(owner, version="v2").get("tasks/").json()["results"][0]
    assert v1["assignee"] == member.pk and v2["assignee"]["username"] == "mia"
    private = services.project_create(actor=owner, name="Private")
    make_task(private, owner, title="Only mine")
    assert "Only mine" not in [t["title"] for t in api(member).get("tasks/").json()["results"]]


def test_a_removed_member_never_sees_cached_project_data(api, project, owner, member):
    task = make_task(project, owner, title="Team only")
    client = api(member)
    assert [t["title"] for t in client.get("tasks/").json()["results"]] == ["Team only"]
    assert client.get(f"tasks/{task.pk}/").status_code == 200
    # Even without the after-commit bump, the membership set is part of the key.
    Membership.objects.filter(project=project, user=member).delete()
    assert client.get("tasks/").json()["results"] == []
    assert client.get(f"tasks/{task.pk}/").status_code == 404


@pytest.mark.e2e
def test_write_then_immediate_read_is_fresh_on_the_live_server(asgi_server, settings):
    from tests.factories import UserFactory, make_project

    settings.API_CACHE_SECONDS = 60
    owner = UserFactory(username="live-owner")
    project = make_project(owner, name="Live")
    task = make_task(project, owner, title="v1")
    headers = {"Authorization": f"Bearer {make_token(owner)}"}
    with httpx.Client(base_url=f"{asgi_server.url}/api/v1", headers=headers) as http:
        for n in range(2, 5):
            assert http.get("/tasks/").json()["results"][0]["title"] == f"v{n - 1}"
            assert http.get(f"/tasks/{task.pk}/").json()["title"] == f"v{n - 1}"
            assert http.patch(f"/tasks/{task.pk}/", json={"title": f"v{n}"}).status_code == 200
            assert http.get(f"/tasks/{task.pk}/").json()["title"] == f"v{n}"
            assert http.get("/tasks/").json()["results"][0]["title"] == f"v{n}"
        created = http.post("/tasks/", json={"project": project.pk, "title": "new"})
        assert created.status_code == 201
        assert [t["title"] for t in http.get("/tasks/").json()["results"]] == ["new", "v4"]
