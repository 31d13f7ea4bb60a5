"""principal_still_allowed: the one rule HTTP authentication and the socket re-check share."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.utils import timezone

from project.auth import READ_SCOPE, Refusal, principal_still_allowed

pytestmark = pytest.mark.django_db

LATER = timedelta(hours=1)


def session_of(user):
    return {SESSION_KEY: str(user.pk), HASH_SESSION_KEY: user.get_session_auth_hash()}


def test_a_valid_token_and_a_live_session_are_allowed(member):
    token = principal_still_allowed(
        member, via="token", scopes=frozenset({"read"}), token_expires=timezone.now() + LATER
    )
    session = principal_still_allowed(
        member, via="session", scopes=frozenset({"read"}), session=session_of(member)
    )
    assert token is None and session is None


@pytest.mark.parametrize("expires", [None, "past"])
def test_a_revoked_or_expired_token_is_refused(member, expires):
    when = timezone.now() - timedelta(seconds=1) if expires == "past" else None
    refusal = principal_still_allowed(
        member, via="token", scopes=frozenset({"read"}), token_expires=when
    )
    assert refusal is Refusal.CREDENTIALS


def test_an_inactive_or_deleted_user_is_refused(member):
    expires = timezone.now() + LATER
    assert (
        principal_still_allowed(None, via="token", scopes=frozenset(), token_expires=expires)
        is Refusal.CREDENTIALS
    )
    member.is_active = False
    refusal = principal_still_allowed(
        member, via="token", scopes=frozenset({"read"}), token_expires=expires
    )
    assert refusal is Refusal.CREDENTIALS


def test_a_session_that_ended_or_predates_a_password_change_is_refused(member, owner):
    alive = session_of(member)
    for session in (None, {}, session_of(owner)):
        refusal = principal_still_allowed(
            member, via="session", scopes=frozenset(), session=session
        )
        assert refusal is Refusal.CREDENTIALS
    member.set_password("changed")
    refusal = principal_still_allowed(member, via="session", scopes=frozenset(), session=alive)
    assert refusal is Refusal.CREDENTIALS


def test_scope_then_membership(member):
    expires = timezone.now() + LATER
    assert (
        principal_still_allowed(
            member,
            via="token",
            scopes=frozenset({"write"}),
            token_expires=expires,
            scope=READ_SCOPE,
        )
        is Refusal.SCOPE
    )
    assert (
        principal_still_allowed(
            member,
            via="token",
            scopes=frozenset({"read"}),
            token_expires=expires,
            scope=READ_SCOPE,
            member=False,
        )
        is Refusal.MEMBERSHIP
    )
