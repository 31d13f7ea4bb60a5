"""Periodic re-check of what long-lived sockets were granted: is the token still valid (not
expired, not revoked) and is the user still a member of the project it streams?

One task per process checks every socket in two queries, every `WEBSOCKET_RECHECK_SECONDS`, so
a silent client is still cut off within seconds of its token expiring. Membership loss is caught
at once from the `member.removed` event (see streams.py); this check is the safety net for losses
that carry no event (the project deleted, an event missed while the layer was down).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from tasks.models import Membership

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Watch:
    """What one socket (or one of its streams) holds: `token_id` (None for a session) and, for a
    stream, the project. `on_lost(reason)` is called once, with "token" or "membership", when
    either is gone."""

    user_id: int
    token_id: int | None
    project_id: int | None
    on_lost: Callable[[str], None] = field(repr=False)


def _still_valid(
    token_ids: set[int], pairs: set[tuple[int, int]]
) -> tuple[set[int], set[tuple[int, int]]]:
    valid_tokens: set[int] = set()
    if token_ids:
        valid_tokens = set(
            get_access_token_model()
            .objects.filter(pk__in=token_ids, expires__gt=timezone.now())
            .values_list("pk", flat=True)
        )
    present: set[tuple[int, int]] = set()
    if pairs:
        rows = Membership.objects.filter(
            user_id__in={user for user, _ in pairs}, project_id__in={p for _, p in pairs}
        ).values_list("user_id", "project_id")
        present = {(user, project) for user, project in rows}
    return valid_tokens, present


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
        watches = list(self.watches)
        tokens = {w.token_id for w in watches if w.token_id is not None}
        pairs = {(w.user_id, w.project_id) for w in watches if w.project_id is not None}
        try:
            valid_tokens, present = await database_sync_to_async(_still_valid)(tokens, pairs)
        except Exception:
            logger.exception("re-checking socket credentials failed")
            return
        for watch in watches:
            token_gone = watch.token_id is not None and watch.token_id not in valid_tokens
            member_gone = (
                watch.project_id is not None and (watch.user_id, watch.project_id) not in present
            )
            if (token_gone or member_gone) and watch in self.watches:
                self.watches.discard(watch)
                try:
                    watch.on_lost("token" if token_gone else "membership")
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
