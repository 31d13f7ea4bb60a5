"""GraphiQL works air-gapped: headless Chromium (Debian's package, driven by Playwright) loads
/graphql with every non-loopback request blocked, sends the header editor's Authorization header
and shows the query's result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.web_browser import CHROMIUM, CHROMIUM_ARGS
from tests.factories import make_token

pytestmark = pytest.mark.e2e


def test_graphiql_runs_a_query_offline(asgi_server: Any, owner: Any) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Chromium first: make browser-deps"

    token = make_token(owner, "read")
    local = urlsplit(asgi_server.url).netloc
    blocked: list[str] = []
    sent_authorization: list[str] = []

    def only_loopback(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == local or url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    def watch(request: Any) -> None:
        if request.url.endswith("/graphql") and request.method == "POST":
            sent_authorization.append(request.headers.get("authorization", ""))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.route("**/*", only_loopback)
            # What typing into the header editor stores (GraphiQL persists the headers).
            headers = json.dumps({"Authorization": f"Bearer {token}"})
            context.add_init_script(
                f"localStorage.setItem('graphiql:headers', {json.dumps(headers)});"
            )
            page = context.new_page()
            page.on("request", watch)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{asgi_server.url}/graphql", wait_until="networkidle")
            page.locator(".graphiql-execute-button").click()
            result = page.locator(".result-window")
            result.get_by_text('"username": "olivia"').wait_for(timeout=15_000)
        finally:
            browser.close()
    assert blocked == []
    assert errors == []
    assert f"Bearer {token}" in sent_authorization
