"""Driving the web app (web/, served at /app/) in Debian's headless Chromium with Playwright:
one browser per test, one context per person, each signing in through the real OAuth
authorization code + PKCE flow (the app's Sign in button, the login form, the consent page)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
DIST_INDEX = ROOT / "web" / "dist" / "index.html"
SCREENSHOTS = ROOT / "web" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
LIVE = 20_000  # ms: generous, for a busy 2-core machine; never a timing assertion


@dataclass
class Person:
    page: Any
    context: Any
    errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)


def open_person(browser: Any, base_url: str, user: Any, *, phone: bool = False) -> Person:
    """A new browser context signed in as `user`, on the app's projects page."""
    viewport = {"width": 390, "height": 844} if phone else {"width": 1360, "height": 860}
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    local = urlsplit(base_url).netloc
    person = Person(page=None, context=context)

    def note_foreign(request: Any) -> None:
        # Watched rather than routed: intercepting requests makes Chromium send `Origin: null`
        # on the login form's POST, which Django's CSRF check rightly refuses.
        if urlsplit(request.url).netloc != local and not request.url.startswith(("data:", "blob:")):
            person.foreign_requests.append(request.url)

    context.on("request", note_foreign)
    page = context.new_page()
    page.set_default_timeout(LIVE)
    page.on("pageerror", lambda error: person.errors.append(str(error)))
    person.page = page
    page.goto(f"{base_url}/app/")
    page.get_by_role("button", name="Sign in").click()
    # The authorization server's login form, then its consent page.
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name="Projects").wait_for()
    return person


def open_board(person: Person, project_name: str) -> None:
    page = person.page
    page.get_by_role("link", name=project_name).click()
    page.get_by_role("heading", name=project_name).wait_for()
    page.get_by_role("status").filter(has_text="Live").wait_for()


def column(person: Person, label: str) -> Any:
    return person.page.get_by_role("region", name=label, exact=True)


def graphql(base_url: str, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Another person's change made through the public API, from outside the browser."""
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def db[T](function: Callable[[], T]) -> T:
    """Runs ORM code from a test body: Playwright's sync API keeps an event loop running in the
    test's thread, where Django refuses synchronous queries, so they run in a worker thread."""
    from django.db import connection

    def run() -> T:
        try:
            return function()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def wait_for(condition: Callable[[], bool], timeout: float = LIVE / 1000) -> None:
    """Polls until `condition()` holds; a generous deadline, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.2)
