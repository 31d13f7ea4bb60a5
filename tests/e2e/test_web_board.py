"""The reference web app in a real browser against the live server: people see each other's
changes live, a viewer gets no edit controls, a stale edit shows the conflict, events missed
during a network drop are replayed, and signing out revokes the tokens."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from graphql_relay import to_global_id

from project.oauth.clients import DEMO_CLIENT_NAME, create_client
from tasks.models import Task
from tests.e2e.web_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DIST_INDEX,
    LIVE,
    ROOT,
    SCREENSHOTS,
    column,
    db,
    graphql,
    open_board,
    open_person,
    wait_for,
)
from tests.factories import make_task, make_token

pytestmark = pytest.mark.e2e

UPDATE_TASK = """mutation($input: UpdateTaskInput!) {
  updateTask(input: $input) { task { version } errors { code } }
}"""
CREATE_TASK = """mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id } errors { code } }
}"""


@pytest.fixture
def app_url(asgi_server: Any, owner: Any) -> str:
    """The live server, with the app's public PKCE client registered for its loopback port."""
    assert DIST_INDEX.exists(), "build the web app first: make web"
    create_client(
        name=DEMO_CLIENT_NAME,
        user=owner,
        redirect_uris=[f"{asgi_server.url}/app/callback"],
        public=True,
    )
    return str(asgi_server.url)


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_changes_appear_live_for_everyone_and_viewers_cannot_edit(
    app_url: str, project: Any, owner: Any, member: Any, viewer: Any, browser: Any
) -> None:
    from playwright.sync_api import expect

    # Some work already on the board (it makes the screenshots worth looking at).
    for title, fields in [
        ("Fix the login redirect", {"priority": "urgent", "assignee_id": member.pk}),
        ("Write the onboarding guide", {"status": "in_progress", "assignee_id": owner.pk}),
        ("Plan the next release", {"priority": "high", "due_date": date(2026, 12, 1)}),
        ("Update dependencies", {"status": "done", "priority": "low"}),
    ]:
        db(lambda title=title, fields=fields: make_task(project, owner, title=title, **fields))
    alice = open_person(browser, app_url, owner)
    bob = open_person(browser, app_url, member)
    victor = open_person(browser, app_url, viewer)
    for person in (alice, bob, victor):
        open_board(person, "Apollo")

    # A creates a task; B and the viewer see it appear without reloading.
    alice.page.get_by_label("New task").fill("Write the launch plan")
    alice.page.get_by_role("button", name="Add task").click()
    for person in (bob, victor):
        expect(column(person, "To do").get_by_text("Write the launch plan")).to_be_visible(
            timeout=LIVE
        )

    # A keeps the task open; B moves it to Done and comments on it.
    alice.page.get_by_role("link", name="Write the launch plan").click()
    alice_panel = alice.page.get_by_role("dialog", name="Task details")
    expect(alice_panel.get_by_label("Title")).to_have_value("Write the launch plan")
    bob.page.get_by_label("Move “Write the launch plan” to").select_option("DONE")
    # Open the card once it stands in its new column, as a person would: a click while the board
    # moves it from one column to the other can land where the card no longer is, and then no
    # panel opens (seen once in CI on a slow 2-core machine).
    bob_done = column(bob, "Done")
    expect(bob_done.get_by_text("Write the launch plan")).to_be_visible(timeout=LIVE)
    bob_done.get_by_role("link", name="Write the launch plan").click()
    bob_panel = bob.page.get_by_role("dialog", name="Task details")
    bob_panel.get_by_label("Add a comment").fill("Shipped, see the release notes.")
    bob_panel.get_by_role("button", name="Comment").click()

    expect(column(alice, "Done").get_by_text("Write the launch plan")).to_be_visible(timeout=LIVE)
    expect(column(alice, "To do").get_by_text("Write the launch plan")).to_have_count(0)
    expect(
        alice_panel.get_by_role("region", name="Comments").get_by_text(
            "Shipped, see the release notes."
        )
    ).to_be_visible(timeout=LIVE)
    expect(alice_panel.get_by_label("Status")).to_have_value("DONE")
    activity = alice.page.get_by_role("complementary", name="Activity")
    expect(activity.get_by_text("Mia Member moved “Write the launch plan” to Done")).to_be_visible()
    expect(activity.get_by_text(re.compile("Mia Member commented on"))).to_be_visible()

    # The viewer sees the same changes, and not one control to change anything.
    expect(column(victor, "Done").get_by_text("Write the launch plan")).to_be_visible(timeout=LIVE)
    victor.page.get_by_role("link", name="Write the launch plan").click()
    victor_panel = victor.page.get_by_role("dialog", name="Task details")
    expect(
        victor_panel.get_by_role("region", name="Comments").get_by_text(
            "Shipped, see the release notes."
        )
    ).to_be_visible(timeout=LIVE)
    expect(victor.page.get_by_text("(read only)")).to_be_visible()
    for name in ("Add task", "Save changes", "Comment", "Delete task"):
        expect(victor.page.get_by_role("button", name=name)).to_have_count(0)
    for label in ("New task", "Title", "Add a comment", "Attach a file"):
        expect(victor.page.get_by_label(label)).to_have_count(0)
    expect(victor.page.get_by_label(re.compile("^Move “"))).to_have_count(0)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    alice.page.get_by_role("button", name="Close task details").click()
    alice.page.screenshot(path=str(SCREENSHOTS / "board.png"))
    alice.page.get_by_role("link", name="Write the launch plan").click()
    expect(
        alice_panel.get_by_role("region", name="Comments").get_by_text(
            "Shipped, see the release notes."
        )
    ).to_be_visible()
    alice.page.screenshot(path=str(SCREENSHOTS / "task-panel.png"))
    bob.page.set_viewport_size({"width": 390, "height": 844})
    bob.page.get_by_role("button", name="Close task details").click()
    bob.page.screenshot(path=str(SCREENSHOTS / "board-phone.png"), full_page=True)
    # The README's picture: refreshed on request only, so a test run leaves the tree clean.
    readme_picture = ROOT / "docs" / "board.png"
    if os.environ.get("UPDATE_SCREENSHOTS") or not readme_picture.exists():
        readme_picture.parent.mkdir(exist_ok=True)
        shutil.copyfile(SCREENSHOTS / "board.png", readme_picture)

    for person in (alice, bob, victor):
        assert person.errors == []
        assert person.foreign_requests == []


def test_a_stale_edit_shows_the_other_change_and_can_be_retried(
    app_url: str, project: Any, owner: Any, member: Any, browser: Any
) -> None:
    from playwright.sync_api import expect

    task = db(lambda: make_task(project, owner, title="Fix the login redirect"))
    alice = open_person(browser, app_url, owner)
    open_board(alice, "Apollo")
    alice.page.get_by_role("link", name="Fix the login redirect").click()
    panel = alice.page.get_by_role("dialog", name="Task details")
    panel.get_by_label("Title").fill("Fix the login redirect on Safari")

    # Meanwhile someone else saves a different title and priority (version 1 -> 2).
    graphql(
        app_url,
        db(lambda: make_token(member)),
        UPDATE_TASK,
        {
            "input": {
                "id": to_global_id("Task", task.pk),
                "expectedVersion": 1,
                "title": "Fix the login redirect loop",
                "priority": "URGENT",
            }
        },
    )
    expect(panel.get_by_text("This task changed since you started editing")).to_be_visible(
        timeout=LIVE
    )
    panel.get_by_role("button", name="Save changes").click()

    conflict = panel.get_by_role("alert").filter(has_text="while you were editing")
    expect(conflict).to_contain_text("Mia Member changed this task")
    expect(conflict).to_contain_text("Nothing was saved")
    expect(conflict.locator("td.theirs")).to_contain_text(["Fix the login redirect loop", "Urgent"])
    expect(conflict.locator("td.yours")).to_contain_text(
        ["Fix the login redirect on Safari", "(unchanged)"]
    )
    db(task.refresh_from_db)
    assert (task.title, task.version) == ("Fix the login redirect loop", 2)

    conflict.get_by_role("button", name="Save mine over theirs").click()
    expect(panel.get_by_text("Saved.", exact=True)).to_be_visible()
    db(task.refresh_from_db)
    # Only the field this person changed was written: the other person's priority stays.
    assert (task.title, task.priority, task.version) == (
        "Fix the login redirect on Safari",
        Task.Priority.URGENT,
        3,
    )
    assert alice.errors == []


def test_events_missed_during_a_network_drop_are_replayed(
    app_url: str, project: Any, owner: Any, member: Any, browser: Any
) -> None:
    from playwright.sync_api import expect

    alice = open_person(browser, app_url, owner)
    network = {"down": False}
    sockets: list[Any] = []

    def relay_or_refuse(ws: Any) -> None:
        if network["down"]:
            ws.close()
            return
        sockets.append((ws, ws.connect_to_server()))

    # Every GraphQL WebSocket of this page goes through here, so the test can cut them.
    alice.context.route_web_socket(re.compile(r"/graphql$"), relay_or_refuse)
    alice.page.reload()
    open_board(alice, "Apollo")

    network["down"] = True
    for page_side, server_side in sockets:
        page_side.close()
        server_side.close()
    expect(alice.page.get_by_role("status").filter(has_text="Reconnecting")).to_be_visible()
    # While the app is offline, someone else creates a task and moves another.
    token = db(lambda: make_token(member))
    project_id = to_global_id("Project", project.pk)
    graphql(app_url, token, CREATE_TASK, {"input": {"projectId": project_id, "title": "Missed"}})
    network["down"] = False

    # Back online, the app resubscribes with `after` = the last event it saw and the server
    # replays what it missed: nothing is reloaded or refetched from scratch.
    expect(alice.page.get_by_role("status").filter(has_text="Live")).to_be_visible(timeout=LIVE)
    expect(column(alice, "To do").get_by_text("Missed")).to_be_visible(timeout=LIVE)
    activity = alice.page.get_by_role("complementary", name="Activity")
    expect(activity.get_by_text("Mia Member created “Missed”")).to_be_visible()
    assert alice.errors == []


def _expire(token: Any) -> None:
    from django.utils import timezone

    token.expires = timezone.now()
    token.save(update_fields=["expires"])


def test_an_expired_token_is_refreshed_and_signing_out_revokes_it(
    app_url: str, project: Any, owner: Any, browser: Any
) -> None:
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model
    from playwright.sync_api import expect

    AccessToken = get_access_token_model()
    RefreshToken = get_refresh_token_model()
    alice = open_person(browser, app_url, owner)
    open_board(alice, "Apollo")
    first_refresh = db(lambda: RefreshToken.objects.get(user=owner).pk)

    # The access token in the app's memory expires; its next request is refused, and the app
    # refreshes (rotating the refresh token) and retries, so the person notices nothing.
    # Saved row by row, as the authorization server writes tokens: the save also drops the token
    # from the server's per-process token cache (a bare `update()` would reach it only after
    # TOKEN_CACHE_SECONDS; a token that expires by the clock is refused at once either way).
    db(lambda: [_expire(token) for token in AccessToken.objects.filter(user=owner)])
    alice.page.get_by_label("New task").fill("After the refresh")
    alice.page.get_by_role("button", name="Add task").click()
    expect(column(alice, "To do").get_by_text("After the refresh")).to_be_visible()
    assert db(lambda: RefreshToken.objects.get(pk=first_refresh).revoked) is not None
    assert db(RefreshToken.objects.filter(user=owner, revoked__isnull=True).count) == 1

    alice.page.get_by_role("button", name="Sign out").click()
    expect(alice.page.get_by_role("button", name="Sign in")).to_be_visible()
    assert db(AccessToken.objects.filter(user=owner).count) == 0
    assert db(RefreshToken.objects.filter(user=owner, revoked__isnull=True).count) == 0
    assert alice.errors == []


def test_an_upload_shows_progress_and_downloads_back_byte_for_byte(
    app_url: str, project: Any, owner: Any, member: Any, browser: Any, tmp_path: Any
) -> None:
    from playwright.sync_api import expect

    db(lambda: make_task(project, owner, title="Collect the invoices"))
    content = b"invoice 2026-11\n" * 4096
    upload = tmp_path / "invoice.txt"
    upload.write_bytes(content)
    mia = open_person(browser, app_url, member)
    open_board(mia, "Apollo")
    mia.page.get_by_role("link", name="Collect the invoices").click()
    panel = mia.page.get_by_role("dialog", name="Task details")
    attachments = panel.get_by_role("region", name="Attachments")

    # Hold the upload at the network so the progress bar can be seen while it is in flight.
    held: list[Any] = []
    mia.page.route(
        re.compile(r"/api/v1/tasks/\d+/attachments/$"),
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    attachments.get_by_label("Attach a file").set_input_files(str(upload))
    expect(attachments.get_by_role("progressbar", name="Upload progress")).to_be_visible()
    wait_for(lambda: bool(held))
    held[0].continue_()

    expect(attachments.locator(".name", has_text="invoice.txt")).to_be_visible()
    expect(attachments.get_by_role("progressbar")).to_have_count(0)
    with mia.page.expect_download() as download:
        attachments.get_by_role("button", name="Download invoice.txt").click()
    assert download.value.suggested_filename == "invoice.txt"
    assert Path(download.value.path()).read_bytes() == content
    assert mia.errors == []
