"""Finding 1: password login at /accounts/login/ and /admin/login/ locks a username out, per
client address, after LOGIN_FAILURE_LIMIT wrong passwords (django-axes, counters in the shared
cache), with a clear 429 page instead of the form, the right password included."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from tests.factories import UserFactory

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _attempt(session: requests.Session, url: str, username: str, password: str) -> Any:
    page = session.get(url, timeout=10)
    assert page.status_code == 200, page.text
    token = _CSRF.search(page.text)
    assert token, page.text
    form = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
    return session.post(url, data=form, headers={"Referer": url}, allow_redirects=False, timeout=10)


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_finding_1_login_lockout_after_repeated_wrong_passwords(
    asgi_server: Any, settings: Any, path: str
) -> None:
    settings.AXES_FAILURE_LIMIT = 5
    user = UserFactory(username="lockme", is_staff=True)
    other = UserFactory(username="bystander", is_staff=True)
    url = asgi_server.url + path
    session = requests.Session()

    for _ in range(4):
        wrong = _attempt(session, url, user.username, "not the password")
        assert wrong.status_code == 200  # the form again, with its error
    fifth = _attempt(session, url, user.username, "not the password")
    assert fifth.status_code == 429  # the limit is reached: locked out from here on
    locked = _attempt(session, url, user.username, PASSWORD)

    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert locked.headers["Content-Type"].startswith("text/html")
    assert "Too many sign-in attempts" in locked.text
    assert "sessionid" not in session.cookies  # the right password did not log in
    # Another username from the same address is not locked out.
    fine = _attempt(requests.Session(), url, other.username, PASSWORD)
    assert fine.status_code == 302
