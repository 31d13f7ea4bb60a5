"""API.md: GraphiQL "can send an `Authorization` header and run subscriptions", offline. Headless
Chromium (Debian's package, driven by Playwright) with every non-loopback request blocked runs a
subscription whose token comes from the header editor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from graphql_relay import to_global_id

from tests.e2e.test_graphql_graphiql import CHROMIUM, CHROMIUM_ARGS
from tests.factories import make_token

pytestmark = pytest.mark.e2e


def test_graphiql_runs_a_subscription_with_the_editor_token(asgi_server: Any, project: Any, member):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Chromium first: make browser-deps"
    token = make_token(member, "read")
    local = urlsplit(asgi_server.url).netloc
    blocked: list[str] = []
    init_payloads: list[Any] = []
    project_id = json.dumps(to_global_id("Project", project.pk))
    query = f'subscription {{ projectEvents(projectId: {project_id}, after: "0") {{ type }} }}'

    def only_loopback(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == local or url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    def watch_socket(ws: Any) -> None:
        def sent(frame: Any) -> None:
            message = json.loads(frame) if isinstance(frame, str) else {}
            if message.get("type") == "connection_init":
                init_payloads.append(message.get("payload"))

        ws.on("framesent", sent)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.route("**/*", only_loopback)
            headers = json.dumps({"Authorization": f"Bearer {token}"})
            context.add_init_script(
                f"localStorage.setItem('graphiql:headers', {json.dumps(headers)});"
                f"localStorage.setItem('graphiql:query', {json.dumps(query)});"
            )
            page = context.new_page()
            page.on("websocket", watch_socket)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{asgi_server.url}/graphql", wait_until="networkidle")
            page.locator(".graphiql-execute-button").click()
            result = page.locator(".result-window")
            result.get_by_text('"type": "member.added"').wait_for(timeout=15_000)
        finally:
            browser.close()
    assert blocked == []
    assert errors == []
    assert init_payloads == [{"authorization": f"Bearer {token}"}]
