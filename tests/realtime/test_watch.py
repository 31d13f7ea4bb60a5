"""The socket re-check (realtime/watch.py): every open socket judged by
`project.auth.principal_still_allowed`, in four queries whatever the number of sockets."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import login
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from project.auth import SESSION_SCOPES, Refusal
from realtime.auth import Credentials
from realtime.watch import Watch, _load_facts, refusal_for
from tasks.models import Membership
from tests.factories import UserFactory, make_token

pytestmark = pytest.mark.django_db


def token_credentials(user: Any, scope: str = "read write") -> Credentials:
    raw = make_token(user, scope)
    token = get_access_token_model().objects.get(
        token_checksum=hashlib.sha256(raw.encode()).hexdigest()
    )
    return Credentials(user=user, scopes=frozenset(scope.split()), token_id=token.pk)


def session_credentials(user: Any) -> Credentials:
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()  # as SessionMiddleware does with the response
    return Credentials(
        user=user, scopes=SESSION_SCOPES, token_id=None, session_key=request.session.session_key
    )


def watch(credentials: Credentials, project: Any = None) -> Watch:
    return Watch(credentials, project.pk if project else None, lambda _refusal: None)


def test_every_kind_of_loss_is_refused(project, owner, member, viewer, admin):
    revoked = token_credentials(member)
    expired = token_credentials(member)
    deactivated_user = UserFactory(username="dee")
    deactivated = token_credentials(deactivated_user)
    read_less = token_credentials(owner, "write")
    logged_out = session_credentials(viewer)
    password_changed = session_credentials(admin)
    kept = session_credentials(owner)
    removed = token_credentials(member)
    watches = {
        "revoked": watch(revoked),
        "expired": watch(expired),
        "deactivated": watch(deactivated),
        "read_less": watch(read_less),
        "logged_out": watch(logged_out, project),
        "password_changed": watch(password_changed),
        "kept": watch(kept, project),
        "removed": watch(removed, project),
    }
    get_access_token_model().objects.filter(pk=revoked.token_id).delete()
    get_access_token_model().objects.filter(pk=expired.token_id).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    type(deactivated_user).objects.filter(pk=deactivated_user.pk).update(is_active=False)
    SessionStore(logged_out.session_key).delete()
    admin.set_password("changed")
    admin.save()
    Membership.objects.filter(project=project, user=member).delete()

    facts = _load_facts(watches.values())
    refusals = {name: refusal_for(w, facts) for name, w in watches.items()}
    assert refusals == {
        "revoked": Refusal.CREDENTIALS,
        "expired": Refusal.CREDENTIALS,
        "deactivated": Refusal.CREDENTIALS,
        "read_less": Refusal.SCOPE,
        "logged_out": Refusal.CREDENTIALS,
        "password_changed": Refusal.CREDENTIALS,
        "kept": None,
        "removed": Refusal.MEMBERSHIP,
    }


@pytest.mark.parametrize("sockets", [2, 40])
def test_the_recheck_costs_four_queries_whatever_the_number_of_sockets(
    project, owner, member, django_assert_num_queries, sockets
):
    token = token_credentials(member)
    session = session_credentials(owner)
    watches = [watch(token if n % 2 else session, project) for n in range(sockets)]
    with django_assert_num_queries(4):  # tokens, users, sessions, memberships
        facts = _load_facts(watches)
    assert {refusal_for(w, facts) for w in watches} == {None}


def test_one_verdict_per_sign_in_and_project_handed_out_in_slices(monkeypatch):
    """Many sockets of one sign-in share one verdict (and one gathering of facts); a large check
    lets other work run between slices; every watch that lost access is told, once."""
    import asyncio

    from realtime import watch as watch_module

    kept_user, lost_user = UserFactory.build(pk=1), UserFactory.build(pk=2)
    kept = Credentials(user=kept_user, scopes=frozenset({"read"}), token_id=1)
    lost = Credentials(user=lost_user, scopes=frozenset({"read"}), token_id=2)
    gathered: list[int] = []
    judged: list[tuple[Credentials, int | None]] = []
    monkeypatch.setattr(
        watch_module, "_load_facts", lambda watches: gathered.append(len(watches)) or object()
    )

    def verdict(one: Watch, facts: Any) -> Refusal | None:
        judged.append((one.credentials, one.project_id))
        return Refusal.CREDENTIALS if one.credentials is lost else None

    monkeypatch.setattr(watch_module, "refusal_for", verdict)
    told: list[int] = []
    count = 3 * watch_module.CHECK_SLICE
    watches = [
        Watch(kept if n % 2 else lost, 7 if n % 3 else None, lambda _r, n=n: told.append(n))
        for n in range(count)
    ]

    async def scenario() -> int:
        dog = watch_module.Watchdog()
        dog.watches.update(watches)
        ran_during: list[int] = []

        async def other_work() -> None:
            while not told:  # until the verdicts are being handed out
                await asyncio.sleep(0)
            ran_during.append(len(told))

        other = asyncio.get_running_loop().create_task(other_work())
        await dog.check()
        await other
        return ran_during[0]

    told_before_other_work = asyncio.run(scenario())
    assert gathered == [4]  # two sign-ins x (socket, project stream)
    assert sorted(judged, key=repr) == sorted(
        {(kept, 7), (kept, None), (lost, 7), (lost, None)}, key=repr
    )
    assert sorted(told) == [n for n in range(count) if n % 2 == 0]
    # The other task ran between slices, not only once every verdict was out.
    assert 0 < told_before_other_work < len(told)


def test_the_sockets_of_one_sign_in_share_a_verdict_without_hashing_credentials(monkeypatch):
    """Each socket holds its own `Credentials` (and its own user instance); the check keys its
    verdicts by plain values, so equal sign-ins share one and no `Credentials` is hashed (a
    dataclass with a model in it: ~5 us a hash and compare, 10 ms a check of 2,000)."""
    import asyncio

    from realtime import watch as watch_module

    def unhashable(self: Credentials) -> int:
        raise AssertionError("Credentials hashed")

    monkeypatch.setattr(Credentials, "__hash__", unhashable)
    monkeypatch.setattr(watch_module, "_load_facts", lambda watches: len(watches))
    judged: list[Watch] = []
    monkeypatch.setattr(watch_module, "refusal_for", lambda one, facts: judged.append(one) or None)
    watches = [
        Watch(
            Credentials(user=UserFactory.build(pk=5), scopes=frozenset({"read"}), token_id=9),
            7,
            lambda _r: None,
        )
        for _ in range(50)
    ]
    other = Watch(
        Credentials(user=UserFactory.build(pk=6), scopes=frozenset({"read"}), token_id=9),
        7,
        lambda _r: None,
    )

    async def scenario() -> None:
        dog = watch_module.Watchdog()
        dog.watches.update([*watches, other])
        await dog.check()

    asyncio.run(scenario())
    assert len(judged) == 2 and other in judged
