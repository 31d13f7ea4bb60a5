"""The OpenAPI document is accurate: Schemathesis drives every operation of both versions as an
authenticated user and checks no 5xx and no response that violates the schema. The docs pages
load their assets from this server only."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tasks.models import Role
from tests.factories import UserFactory, make_project, make_task, make_token

EXAMPLES_PER_OPERATION = 12


def _seed_and_token() -> str:
    user = UserFactory(username="schemathesis")
    other = UserFactory(username="teammate")
    project = make_project(user, name="Fuzzed", members={other: Role.MEMBER})
    for n in range(3):
        make_task(project, user, title=f"Task {n}", assignee_id=other.pk)
    return make_token(user, "read write")


def _load_schema() -> Any:
    """Both versions' documents as one (the schema view needs no database, so this runs at import:
    schemathesis' fixture-based lazy loading does not work with this pytest)."""
    app = get_wsgi_application()
    v1 = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app).raw_schema
    v2 = schemathesis.openapi.from_wsgi("/api/schema/?format=json&version=v2", app).raw_schema
    merged = {**v1, "paths": {**v1["paths"], **v2["paths"]}}
    merged["components"] = {
        **v1["components"],
        "schemas": {**v1["components"]["schemas"], **v2["components"]["schemas"]},
    }
    loaded = schemathesis.openapi.from_dict(merged)
    loaded.app = app
    return loaded


schema = _load_schema()


@pytest.fixture
def bearer(db: Any, settings: Any) -> Iterator[dict[str, str]]:
    rates = {"anon": "100000/min", "user": "100000/min", "write": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # As Django's test client does: the raw WSGI app must not close the test's connection
    # (which is inside the test transaction) when each request finishes.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Bearer {_seed_and_token()}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_conforms_to_the_schema(case: Any, bearer: dict[str, str]) -> None:
    # Not `positive_data_acceptance`: schema-valid input can still break a business rule (an
    # assignee who is not a member, a whitespace-only title) and is rightly a 400 problem.
    case.call_and_validate(headers=bearer, excluded_checks=[positive_data_acceptance])


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_reference_only_local_assets(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert urls, "the page loads its UI from somewhere"
    for url in urls:
        assert url.startswith("/"), f"{path} loads {url} from another origin"
        assert not url.startswith("//")
    # Anywhere in the page (inline scripts too), not just in src/href: no absolute URL and no
    # protocol-relative host. Not a bare "cdn" substring: the page's random CSRF token can hold one.
    assert re.findall(r"[a-z][a-z0-9+.-]*://[^\s\"'<>]+", html, re.IGNORECASE) == []
    assert re.findall(r"//[a-z0-9-]+(?:\.[a-z0-9-]+)+", html, re.IGNORECASE) == []
    assert "jsdelivr" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.e2e
@pytest.mark.skipif(CHROMIUM is None, reason="needs a headless Chromium binary")
@pytest.mark.parametrize(
    ("path", "rendered_marker"),
    [("/api/docs/", "operations-v1-v1_tasks_list"), ("/api/redoc/", "v1_tasks_list")],
)
def test_docs_render_in_a_real_browser_with_the_network_cut(asgi_server, path, rendered_marker):
    """Every host but the loopback server resolves to nothing, so a CDN asset could not load."""
    command = [
        str(CHROMIUM),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--virtual-time-budget=15000",
        "--dump-dom",
        f"{asgi_server.url}{path}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    dom = result.stdout
    assert rendered_marker in dom, (result.returncode, result.stderr[-2000:], dom[:2000])
    assert "Failed to load API definition" not in dom
