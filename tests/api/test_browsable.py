"""Browser sessions get DRF's browsable pages; API clients keep getting JSON."""

import pytest
from django.test import Client

from tests.factories import make_task

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def browser(project, owner):
    client = Client()
    client.force_login(owner)
    return client


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_logged_in_browser_gets_the_browsable_pages(browser, project, owner, version):
    task = make_task(project, owner, title="Browse me")
    paths = [
        "me/",
        "projects/",
        f"projects/{project.pk}/",
        f"projects/{project.pk}/members/",
        f"projects/{project.pk}/activity/",
        "tasks/",
        f"tasks/{task.pk}/",
        f"tasks/{task.pk}/comments/",
        f"tasks/{task.pk}/attachments/",
    ]
    for path in paths:
        response = browser.get(f"/api/{version}/{path}", headers=HTML)
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("text/html"), path
    for path in ("tasks/", f"tasks/{task.pk}/"):
        assert b"Browse me" in browser.get(f"/api/{version}/{path}", headers=HTML).content


def test_clients_without_an_accept_header_still_get_json(browser):
    response = browser.get("/api/v1/me/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_a_browser_without_a_session_gets_a_problem_not_a_login_form(client):
    response = client.get("/api/v1/me/", headers=HTML)
    assert response.status_code == 401
