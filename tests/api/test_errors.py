"""Every error is an RFC 9457 problem (application/problem+json); no client input is a 500."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem
from tests.factories import make_task, make_token

pytestmark = pytest.mark.django_db


def test_401_without_credentials_carries_a_bearer_challenge(api):
    response = api().get("tasks/")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer ")


def test_401_for_a_bad_token(api, owner):
    client = api()
    client.client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    response = client.get("me/")
    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_403_insufficient_scope_for_a_read_only_token_on_writes(api, project, owner):
    client = api(owner, scope="read")
    assert client.get("projects/").status_code == 200
    response = client.post("projects/", {"name": "x"})
    assert_problem(response, 403, "insufficient_scope")
    assert "insufficient_scope" in response["WWW-Authenticate"]


def test_403_for_a_role_that_may_not(api, project, owner, viewer):
    task = make_task(project, owner)
    body = assert_problem(api(viewer).delete(f"tasks/{task.pk}/"), 403, "permission_denied")
    assert body["title"] == "Forbidden" and body["type"].endswith("permission_denied")


@pytest.mark.parametrize("path", ["tasks/999999/", "tasks/99999999999999999999999/", "comments/5/"])
def test_404_problem_for_unknown_ids(api, owner, path):
    assert_problem(api(owner).get(path), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/nowhere/", "/api/v3/tasks/", "/api/"])
def test_django_level_404_under_api_is_a_problem(api, owner, path):
    response = api(owner).get(path)
    assert_problem(response, 404, "not_found")
    assert response["API-Version"] == "v1"


def test_405_problem_with_allow(api, project, owner):
    task = make_task(project, owner)
    response = api(owner).post(f"tasks/{task.pk}/", {})
    assert_problem(response, 405, "method_not_allowed")
    assert "PATCH" in response["Allow"]
    # Uploads are POSTs (multipart); replacing an attachment list is not a thing.
    assert_problem(api(owner).put(f"tasks/{task.pk}/attachments/", {}), 405)


def test_406_problem_for_an_unservable_accept(api, owner):
    response = api(owner).get("me/", HTTP_ACCEPT="text/csv")
    assert_problem(response, 406, "not_acceptable")


def test_415_problem_for_form_bodies(api, owner):
    response = api(owner).client.post(
        "/api/v1/projects/", "name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": ',
        b"\xff\xfe\x00",
        b'{"name": "a", "name": NaN}',
        b'{"name": 1e99999}',
        b"[1, 2, 3]",
        b'"just a string"',
        b"null",
    ],
)
def test_malformed_or_wrongly_shaped_json_is_400(api, owner, raw):
    response = api(owner).client.post("/api/v1/projects/", raw, content_type="application/json")
    assert_problem(response, 400)


@pytest.mark.parametrize(
    "body",
    [
        {"project": 10**30, "title": "x"},
        {"project": "1", "title": ["x"]},
        {"project": True, "title": "x"},
        {"project": "P", "title": {"a": 1}},
        {"project": "P", "title": "x\x00y"},
        {"project": "P", "title": "x", "due_date": 20300101},
        {"project": "P", "title": "x", "assignee": -5},
        {"project": "P", "title": "x", "assignee": 10**30},
        {"project": "P", "title": "x", "status": None},
    ],
)
def test_wrong_types_huge_ints_and_nul_bytes_are_400(api, project, owner, body):
    body = {**body, "project": project.pk} if body["project"] == "P" else body
    response = api(owner).post("tasks/", body)
    problem = assert_problem(response, 400, "invalid")
    assert problem["errors"], problem


def test_validation_problem_lists_every_field(api, project, owner):
    response = api(owner).post("tasks/", {"project": project.pk, "title": "", "priority": "x"})
    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"priority": ['"x" is not a valid choice.']}
    assert body["invalid_params"] == [
        {"name": "priority", "code": "invalid_choice", "reason": '"x" is not a valid choice.'}
    ]


def test_unhandled_errors_are_a_500_problem_without_a_traceback(api, owner, monkeypatch):
    from tasks.api.views import me

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(me.MeView, "render", boom)
    client = api(owner)
    client.client.raise_request_exception = False
    response = client.get("me/")
    body = assert_problem(response, 500, "server_error")
    assert "secret" not in response.content.decode()
    assert body["detail"]


def test_429_problem_with_retry_after(api, owner, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "3/min", "write": "1/min"},
    }
    _reload_throttle_rates(settings)
    client = api(owner)
    assert [client.get("me/").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("me/")
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_writes_have_a_tighter_throttle(api, owner, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/min", "user": "100/min", "write": "1/min"},
    }
    _reload_throttle_rates(settings)
    client = api(owner)
    assert client.post("projects/", {"name": "one"}).status_code == 201
    response = client.post("projects/", {"name": "two"})
    assert_problem(response, 429, "throttled")
    assert "Retry-After" in response
    assert client.get("projects/").status_code == 200  # reads are not the write scope


def test_anonymous_clients_are_throttled_by_ip(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "100/min", "write": "100/min"},
    }
    _reload_throttle_rates(settings)
    client = api()
    assert [client.get("me/").status_code for _ in range(2)] == [401, 401]
    response = client.get("me/")
    assert_problem(response, 429, "throttled")
    assert "Retry-After" in response


def test_throttle_counts_are_per_user(api, owner, member, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/min", "user": "1/min", "write": "100/min"},
    }
    _reload_throttle_rates(settings)
    assert api(owner).get("me/").status_code == 200
    assert api(owner).get("me/").status_code == 429
    assert api(member).get("me/").status_code == 200


def _reload_throttle_rates(settings):
    # DRF reads THROTTLE_RATES once into a class attribute; point it at the overridden ones.
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]


@pytest.fixture(autouse=True)
def _restore_throttle_rates():
    from rest_framework.throttling import SimpleRateThrottle

    saved = SimpleRateThrottle.THROTTLE_RATES
    yield
    SimpleRateThrottle.THROTTLE_RATES = saved


def test_every_response_has_api_version(api, owner):
    token = make_token(owner)
    for path in ["/api/v1/me/", "/api/v2/me/", "/api/schema/", "/api/v2/nowhere/"]:
        response = api().client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response["API-Version"] == ("v2" if "/v2/" in path else "v1"), path
