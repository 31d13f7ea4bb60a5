"""Periodic re-check of what long-lived sockets were granted, with the rule HTTP authentication
uses (`project.auth.principal_still_allowed`): the token still valid (not expired, not revoked),
the browser session still signed in (not logged out, flushed or expired, password unchanged), the
user still active, the scope still held, and the user still a member of the project streamed.

One task per process checks every socket in at most four queries (tokens, users, sessions,
memberships), every `WEBSOCKET_RECHECK_SECONDS`, so a silent client is cut off within that period
of losing any of these. Membership loss is also caught at once from the `member.removed` event
(see streams.py).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from project.auth import READ_SCOPE, Refusal, principal_still_allowed
from tasks.models import Membership

from .auth import Credentials

logger = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class Watch:
    """What one socket (or one of its streams) holds: its credentials and, for a stream, the
    project. `on_lost(refusal)` is called once, when `principal_still_allowed` refuses.

    Slotted, as every object a socket keeps for its lifetime: on Python 3.13 an instance with a
    `__dict__` reserves room for its class's shared attribute keys, about 0.3 KB for three
    attributes against 0.06 KB in slots (tracemalloc)."""

    credentials: Credentials
    project_id: int | None
    on_lost: Callable[[Refusal], None] = field(repr=False)


@dataclass
class _Facts:
    users: dict[int, Any]
    tokens: dict[int, tuple[datetime, frozenset[str]]]
    sessions: dict[str, dict[str, Any]]
    members: set[tuple[int, int]]


def _load_sessions(keys: set[str]) -> dict[str, dict[str, Any]]:
    """The current data of each session still alive, by key (a missing key: logged out, flushed
    or expired). One query on the database engine; other engines load each session."""
    if not keys:
        return {}
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if issubclass(store_class, DatabaseSessionStore):
        rows = store_class.get_model_class().objects.filter(
            session_key__in=keys, expire_date__gt=timezone.now()
        )
        store = store_class()
        return {row.session_key: store.decode(row.session_data) for row in rows}
    loaded = {key: store_class(key).load() for key in keys}
    return {key: data for key, data in loaded.items() if data}


def _load_facts(watches: Iterable[Watch]) -> _Facts:
    token_ids: set[int] = set()
    session_keys: set[str] = set()
    user_ids: set[int] = set()
    pairs: set[tuple[int, int]] = set()
    for watch in watches:
        credentials = watch.credentials
        user_ids.add(credentials.user.pk)
        if credentials.token_id is not None:
            token_ids.add(credentials.token_id)
        elif credentials.session_key:
            session_keys.add(credentials.session_key)
        if watch.project_id is not None:
            pairs.add((credentials.user.pk, watch.project_id))
    tokens: dict[int, tuple[datetime, frozenset[str]]] = {}
    if token_ids:
        rows = get_access_token_model().objects.filter(pk__in=token_ids)
        for pk, expires, scope in rows.values_list("pk", "expires", "scope"):
            tokens[pk] = (expires, frozenset(scope.split()))
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=user_ids)}
    members: set[tuple[int, int]] = set()
    if pairs:
        rows = Membership.objects.filter(
            user_id__in={user for user, _ in pairs}, project_id__in={p for _, p in pairs}
        ).values_list("user_id", "project_id")
        members = {(user, project) for user, project in rows}
    return _Facts(users, tokens, _load_sessions(session_keys), members)


def refusal_for(watch: Watch, facts: _Facts) -> Refusal | None:
    credentials = watch.credentials
    user_id = credentials.user.pk
    member = None if watch.project_id is None else (user_id, watch.project_id) in facts.members
    user = facts.users.get(user_id)
    if credentials.token_id is not None:
        expires, scopes = facts.tokens.get(credentials.token_id, (None, frozenset()))
        return principal_still_allowed(
            user,
            via="token",
            scopes=scopes,
            token_expires=expires,
            scope=READ_SCOPE,
            member=member,
        )
    return principal_still_allowed(
        user,
        via="session",
        scopes=credentials.scopes,
        session=facts.sessions.get(credentials.session_key or ""),
        scope=READ_SCOPE,
        member=member,
    )


# Watches given their verdict per turn of the event loop.
CHECK_SLICE = 256

VerdictKey = tuple[object, int | None, str | None, frozenset[str], int | None]


def _verdict_key(watch: Watch) -> VerdictKey:
    """What `refusal_for` reads of a watch, as plain values. `Credentials` (a dataclass holding
    a model instance) hashes and compares through generated and model methods: keyed by it,
    a check of 2,000 watches held the loop 10.4 ms in all (in-process, one core); keyed by
    this tuple, 1.7 ms."""
    credentials = watch.credentials
    return (
        credentials.user.pk,
        credentials.token_id,
        credentials.session_key,
        credentials.scopes,
        watch.project_id,
    )


class Watchdog:
    def __init__(self) -> None:
        self.watches: set[Watch] = set()
        self._task: asyncio.Task[None] | None = None

    def add(self, watch: Watch) -> None:
        self.watches.add(watch)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, watch: Watch) -> None:
        self.watches.discard(watch)

    async def _run(self) -> None:
        while self.watches:
            await asyncio.sleep(float(settings.WEBSOCKET_RECHECK_SECONDS))
            await self.check()

    async def check(self) -> None:
        """One verdict per distinct (credentials, project): the sockets and streams of one
        sign-in share it. Handed out a slice at a time, so a fan-out due meanwhile is not held
        up: measured with 1,000 GraphQL subscribers on one token (2,000 watches), the check
        held the loop about 3 ms in one piece, plus about 5 ms of its thread contending for the
        GIL while the facts were gathered for every watch rather than every sign-in."""
        watches = list(self.watches)
        distinct = {_verdict_key(watch): watch for watch in watches}

        try:
            facts = await database_sync_to_async(_load_facts)(list(distinct.values()))
        except Exception:
            logger.exception("re-checking socket credentials failed")
            return
        verdicts: dict[VerdictKey, Refusal | None] = {}
        for index, watch in enumerate(watches):
            if index and not index % CHECK_SLICE:
                await asyncio.sleep(0)
            key = _verdict_key(watch)
            if key in verdicts:
                refusal = verdicts[key]
            else:
                refusal = verdicts[key] = refusal_for(watch, facts)
            if refusal is not None and watch in self.watches:
                self.watches.discard(watch)
                try:
                    watch.on_lost(refusal)
                except Exception:
                    logger.exception("closing a socket that lost its credentials failed")


_watchdogs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Watchdog] = (
    weakref.WeakKeyDictionary()
)


def get_watchdog() -> Watchdog:
    loop = asyncio.get_running_loop()
    watchdog = _watchdogs.get(loop)
    if watchdog is None:
        watchdog = _watchdogs[loop] = Watchdog()
    return watchdog
