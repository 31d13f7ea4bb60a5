"""ReDoc (/api/redoc/) and Swagger UI (/api/docs/) in headless Chromium: they render the API and
no request leaves the live server's loopback address (sidecar assets, ReDoc's logo included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.web_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("path", "local_asset"),
    [
        # ReDoc's footer logo, which its bundle would fetch from https://cdn.redoc.ly/.
        ("/api/redoc/", "/static/tasks/api/docs-logo.svg"),
        ("/api/docs/", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"),
    ],
)
def test_the_api_docs_load_nothing_from_another_host(asgi_server: Any, path: str, local_asset: str):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Chromium first: make browser-deps"
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            # Watched, not routed: every request the page makes, whatever stops it later.
            page.on("request", lambda request: requested.append(request.url))
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(asgi_server.url + path, wait_until="networkidle")
            # Rendered from the schema: an operation of the API shows up.
            page.get_by_text("/api/v1/projects/").first.wait_for(timeout=20_000)
            page.wait_for_load_state("networkidle")
        finally:
            browser.close()
    hosts = {urlsplit(url).netloc for url in requested if not url.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(asgi_server.url).netloc}
    assert asgi_server.url + local_asset in requested
    assert asgi_server.url + "/api/schema/" in requested
    assert errors == []


@pytest.mark.parametrize("path", ["/api/redoc/", "/api/docs/"])
def test_the_docs_pages_allow_this_origin_only(client: Any, path: str) -> None:
    policy = client.get(path)["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "img-src 'self' data:" in policy
    assert "https:" not in policy and "*" not in policy
