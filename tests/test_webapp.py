"""The /app/ page: web/dist/index.html for every client route, with the OAuth client id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from project.oauth.clients import DEMO_CLIENT_NAME, create_client

INDEX = """<!doctype html><html><head>
<meta name="taskhub-oauth-client-id" content="" />
<script type="module" src="/static/app/assets/index.js"></script>
</head><body><div id="root"></div></body></html>"""


@pytest.fixture
def dist(settings: Any, tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text(INDEX)
    settings.WEB_APP_DIST = tmp_path
    settings.WEB_OAUTH_CLIENT_ID = ""
    return tmp_path


@pytest.mark.parametrize(
    "path", ["/app/", "/app/projects/UHJvamVjdDox/tasks/VGFzazox", "/app/callback"]
)
def test_every_app_route_serves_the_page_with_the_demo_client_id(
    client: Any, dist: Path, owner: Any, path: str
) -> None:
    app = create_client(
        name=DEMO_CLIENT_NAME,
        user=owner,
        redirect_uris=["http://127.0.0.1:8000/app/callback"],
        public=True,
    )
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<meta name="taskhub-oauth-client-id" content="{app.client_id}" />' in page
    assert "/static/app/assets/index.js" in page
    assert "no-store" in response["Cache-Control"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_client_id_setting_wins_and_is_escaped(client: Any, dist: Path, settings: Any) -> None:
    settings.WEB_OAUTH_CLIENT_ID = 'abc"><script>'
    page = client.get("/app/").content.decode()
    assert 'content="abc&quot;&gt;&lt;script&gt;"' in page


def test_without_a_client_the_page_still_loads_and_the_app_explains(
    client: Any, dist: Path, db: Any
) -> None:
    page = client.get("/app/").content.decode()
    assert '<meta name="taskhub-oauth-client-id" content="" />' in page


def test_an_unbuilt_app_says_how_to_build_it(
    client: Any, settings: Any, tmp_path: Path, db: Any
) -> None:
    settings.WEB_APP_DIST = tmp_path / "missing"
    response = client.get("/app/")
    assert response.status_code == 503
    assert b"make web" in response.content


def test_the_page_is_read_only(client: Any, dist: Path, db: Any) -> None:
    assert client.post("/app/").status_code == 405
