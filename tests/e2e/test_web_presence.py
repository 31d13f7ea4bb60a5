"""Presence in the reference web app, in a real browser: two people on one board see each
other's avatars, and one editing a task shows "… is editing" in the other's task panel."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.web_browser import LIVE, db, open_board, open_person
from tests.factories import make_task

from .test_presence import _presence  # noqa: F401  (autouse: short TTL, an empty store)
from .test_web_board import app_url, browser  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def test_two_people_see_each_other_and_who_is_editing(
    app_url: str,  # noqa: F811
    project: Any,
    owner: Any,
    member: Any,
    browser: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    db(lambda: make_task(project, owner, title="Draft the roadmap"))
    alice = open_person(browser, app_url, owner)
    bob = open_person(browser, app_url, member)
    for person in (alice, bob):
        open_board(person, "Apollo")

    alice_sees = alice.page.get_by_role("list", name="Also viewing")
    bob_sees = bob.page.get_by_role("list", name="Also viewing")
    expect(alice_sees.get_by_label("Mia Member")).to_have_text("MM", timeout=LIVE)
    expect(bob_sees.get_by_label("Olivia Owner")).to_have_text("OO", timeout=LIVE)
    expect(alice_sees.get_by_role("listitem")).to_have_count(1)  # not herself

    # Both open the task; Bob starts editing it.
    for person in (alice, bob):
        person.page.get_by_role("link", name="Draft the roadmap").click()
    alice_panel = alice.page.get_by_role("dialog", name="Task details")
    bob_panel = bob.page.get_by_role("dialog", name="Task details")
    expect(bob_panel.get_by_label("Title")).to_have_value("Draft the roadmap")
    bob_panel.get_by_label("Title").click()
    expect(alice_panel.get_by_text("Mia Member is editing")).to_be_visible(timeout=LIVE)
    expect(bob_panel.get_by_text("is editing")).to_have_count(0)  # not about himself

    # He leaves the form: the indicator goes; he closes his tab: his avatar goes.
    bob_panel.get_by_role("button", name="Close task details").click()
    expect(alice_panel.get_by_text("Mia Member is editing")).to_have_count(0, timeout=LIVE)
    bob.context.close()
    expect(alice_sees).to_have_count(0, timeout=LIVE)
    assert alice.errors == [] and bob.errors == []
