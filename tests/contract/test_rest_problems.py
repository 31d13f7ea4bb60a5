"""API.md, REST errors, concurrency, idempotency and throttling, over loopback with httpx: every
error is an RFC 9457 problem (`application/problem+json`, `{type, title, status, detail, code,
errors: {field: [message]}}`) with `API-Version` and `X-Request-ID`; never a 500 for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import make_task, make_token

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> Any:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["API-Version"] in {"v1", "v2"}
    assert response.headers["X-Request-ID"]
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "code", "errors"}, body
    assert body["status"] == status
    assert all(isinstance(body[key], str) and body[key] for key in ("type", "title", "code"))
    assert isinstance(body["detail"], str)
    assert isinstance(body["errors"], dict)
    for field, messages in body["errors"].items():
        assert isinstance(field, str)
        assert isinstance(messages, list) and messages
        assert all(isinstance(message, str) for message in messages)
    if code is not None:
        assert body["code"] == code, body
    return body


def client(server: Any, user: Any = None, scope: str = "read write", version: str = "v1") -> Any:
    headers = {"Authorization": f"Bearer {make_token(user, scope)}"} if user else {}
    return httpx.Client(base_url=f"{server.url}/api/{version}/", headers=headers, timeout=20)


def test_each_error_class_is_a_problem(
    asgi_server: Any, owner: Any, viewer: Any, outsider: Any, project: Any
) -> None:
    task = make_task(project, owner, title="Guarded")
    with client(asgi_server) as anonymous:
        missing = assert_problem(anonymous.get("tasks/"), 401)
        assert missing["code"]
    unauthenticated = httpx.get(f"{asgi_server.url}/api/v2/tasks/")
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Bearer")
    bad = httpx.get(
        f"{asgi_server.url}/api/v1/tasks/", headers={"Authorization": "Bearer not-a-token"}
    )
    assert_problem(bad, 401)
    assert bad.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]

    with client(asgi_server, owner, scope="read") as read_only:
        scope = assert_problem(read_only.post("projects/", json={"name": "x"}), 403)
        assert scope["code"] == "insufficient_scope"
        assert (
            "insufficient_scope"
            in read_only.post("projects/", json={"name": "x"}).headers["WWW-Authenticate"]
        )
        # No token in a URL query string is ever accepted, even beside a good header.
        assert_problem(read_only.get("me/", params={"access_token": make_token(owner)}), 401)

    with client(asgi_server, viewer) as as_viewer:
        assert_problem(as_viewer.patch(f"tasks/{task.pk}/", json={"title": "x"}), 403)

    with client(asgi_server, outsider) as as_outsider:
        hidden = assert_problem(as_outsider.get(f"tasks/{task.pk}/"), 404)
        unknown = assert_problem(as_outsider.get("tasks/999999/"), 404)
        assert hidden == unknown  # existence is not leaked
        assert_problem(as_outsider.get(f"projects/{project.pk}/"), 404)
        assert_problem(as_outsider.delete(f"projects/{project.pk}/"), 404)

    with client(asgi_server, owner) as api:
        invalid = assert_problem(
            api.post(
                "tasks/",
                json={"project": project.pk, "title": " ", "status": "DONE", "due_date": "soon"},
            ),
            400,
        )
        assert set(invalid["errors"]) >= {"status", "due_date"}
        too_long = assert_problem(
            api.post("tasks/", json={"project": project.pk, "title": "x" * 201}), 400
        )
        assert list(too_long["errors"]) == ["title"]
        assert_problem(api.delete("me/"), 405)
        assert_problem(api.get("me/", headers={"Accept": "text/csv"}), 406)
        assert_problem(api.post("projects/", data={"name": "form"}), 415)
        assert_problem(
            api.post(
                "projects/", content=b"{not json", headers={"Content-Type": "application/json"}
            ),
            400,
        )
        assert_problem(api.get("no/such/route/"), 404)

        refused = assert_problem(
            api.post(
                f"tasks/{task.pk}/attachments/",
                files={"file": ("page.html", b"<html><script>x</script></html>", "text/html")},
            ),
            400,
        )
        assert list(refused["errors"]) == ["file"]  # an upload refusal uses `errors` too
        assert_problem(api.post(f"tasks/{task.pk}/attachments/", files={"other": ("a", b"a")}), 400)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "tasks/", {"project": 2**70, "title": "x"}),
        ("POST", "tasks/", {"project": "1", "title": ["x"]}),
        ("POST", "tasks/", [1, 2, 3]),
        ("POST", "tasks/", {"project": True, "title": "\x00"}),
        ("PATCH", "tasks/1/", {"due_date": "2030-02-30"}),
        ("PATCH", "tasks/99999999999999999999/", {"title": "x"}),
        ("GET", "tasks/?status=nope&ordering=bogus&page_size=abc&cursor=%%%", None),
        ("GET", "tasks/?due_before=yesterday&assignee=-1&unassigned=maybe", None),
        ("GET", "projects/?page=0", None),
        ("GET", "projects/1/activity/?cursor=bm90LWEtY3Vyc29y", None),
        ("POST", "projects/1/members/", {"username": {"$ne": 1}, "role": "god"}),
        ("DELETE", "projects/1/members/abc/", None),
        ("POST", "comments/1/", {"body": "x"}),
    ],
)
def test_bad_input_is_never_a_500(
    asgi_server: Any, owner: Any, project: Any, method: str, path: str, body: Any
) -> None:
    make_task(project, owner)
    with client(asgi_server, owner) as api:
        response = (
            api.request(method, path, json=body) if body is not None else api.request(method, path)
        )
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert_problem(response, response.status_code)


def test_etag_304_and_412_over_the_wire(asgi_server: Any, owner: Any, project: Any) -> None:
    task = make_task(project, owner, title="Versioned")
    with client(asgi_server, owner) as api:
        first = api.get(f"tasks/{task.pk}/")
        etag = first.headers["ETag"]
        assert str(first.json()["version"]) in etag
        not_modified = api.get(f"tasks/{task.pk}/", headers={"If-None-Match": etag})
        assert not_modified.status_code == 304 and not_modified.content == b""
        updated = api.patch(f"tasks/{task.pk}/", json={"title": "V2"}, headers={"If-Match": etag})
        assert updated.status_code == 200 and updated.headers["ETag"] != etag
        assert api.get(f"tasks/{task.pk}/", headers={"If-None-Match": etag}).status_code == 200
        for method, body in (
            ("PATCH", {"title": "V3"}),
            ("PUT", {"title": "V3"}),
            ("DELETE", None),
        ):
            stale = api.request(method, f"tasks/{task.pk}/", json=body, headers={"If-Match": etag})
            assert_problem(stale, 412)
    task.refresh_from_db()
    assert task.title == "V2" and task.version == 2


def test_idempotency_key_over_the_wire(asgi_server: Any, owner: Any, project: Any) -> None:
    with client(asgi_server, owner, version="v2") as api:
        body = {"project": project.pk, "title": "Once"}
        first = api.post("tasks/", json=body, headers={"Idempotency-Key": "contract-1"})
        again = api.post("tasks/", json=body, headers={"Idempotency-Key": "contract-1"})
        assert first.status_code == again.status_code == 201
        assert "Idempotent-Replayed" not in first.headers
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        other = api.post(
            "tasks/", json={**body, "title": "Twice"}, headers={"Idempotency-Key": "contract-1"}
        )
        assert_problem(other, 422)
    assert project.tasks.count() == 1


def test_anonymous_clients_get_60_a_minute_then_429(asgi_server: Any) -> None:
    """The default anonymous rate, enforced on the running server."""
    with httpx.Client(base_url=f"{asgi_server.url}/api/v1/") as anonymous:
        statuses = [anonymous.get("me/").status_code for _ in range(60)]
        assert set(statuses) == {401}
        throttled = anonymous.get("me/")
    assert_problem(throttled, 429)
    assert int(throttled.headers["Retry-After"]) > 0


def test_default_rates_without_overrides() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THROTTLE_")}
    script = (
        "import django, json; django.setup();"
        "from django.conf import settings;"
        "print(json.dumps(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']))"
    )
    output = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "project.settings", "DEBUG": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rates = json.loads(output.strip().splitlines()[-1])
    assert rates == {"anon": "60/min", "user": "1200/min", "write": "300/min"}
