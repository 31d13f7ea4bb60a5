"""Bearer token -> its row's essentials and its user: one narrow SQL query, then a short-lived
per-process cache keyed by the token's checksum.

Why not `AccessToken.objects.select_related(...).first()`: that query joins four tables, selects
about 55 columns and adds an `ORDER BY`; measured in-process it cost 1.44 ms per request against
0.04 ms for the SQL alone (issue 19). This reads the token's four columns and the user's own, and
keeps the row for `TOKEN_CACHE_SECONDS` (default 1 s), so a busy client pays for it about once a
second.

Staleness is bounded and invalidation is eager where it can be: revoking a token deletes its row
(django-oauth-toolkit's `revoke()`), which drops it from this process's cache at once; another
process refuses it within `TOKEN_CACHE_SECONDS`. A user saved (deactivated, say) clears the whole
cache of the process that saved it. Expiry is checked on every use against the cached `expires`.
Unknown tokens are never cached, so random guesses cannot fill the cache."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_delete, post_save
from oauth2_provider.models import get_access_token_model

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class TokenRow:
    token_id: int
    expires: datetime
    scopes: frozenset[str]
    user_columns: tuple[str, ...]
    user_values: tuple[Any, ...]

    def user(self) -> AbstractBaseUser:
        """A fresh instance per call: requests never share (and never mutate) one object."""
        user: AbstractBaseUser = get_user_model().from_db(
            DEFAULT_DB_ALIAS, list(self.user_columns), list(self.user_values)
        )
        return user


_entries: dict[str, tuple[float, TokenRow]] = {}
_lock = threading.Lock()


def _user_columns() -> tuple[str, ...]:
    return tuple(field.attname for field in get_user_model()._meta.concrete_fields)


def _fetch(checksum: str) -> TokenRow | None:
    columns = _user_columns()
    own = [f"user__{name}" for name in columns]
    owner = [f"application__user__{name}" for name in columns]
    rows = list(
        get_access_token_model()
        .objects.filter(token_checksum=checksum)
        .values_list("pk", "expires", "scope", "user_id", *own, *owner)[:1]
    )
    if not rows:
        return None
    token_id, expires, scope, user_id, *values = rows[0]
    # Client credentials: no user on the token, which acts as the application's owning user.
    user_values = values[: len(columns)] if user_id is not None else values[len(columns) :]
    if user_values[0] is None:
        return None
    return TokenRow(token_id, expires, frozenset(scope.split()), columns, tuple(user_values))


def lookup(checksum: str) -> TokenRow | None:
    """The token row for this checksum, from this process's cache when fresh."""
    ttl = float(getattr(settings, "TOKEN_CACHE_SECONDS", 1.0))
    now = time.monotonic()
    entry = _entries.get(checksum)
    if entry is not None and now - entry[0] < ttl:
        return entry[1]
    row = _fetch(checksum)
    with _lock:
        if row is None:
            _entries.pop(checksum, None)
        elif ttl > 0:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[checksum] = (now, row)
    return row


def forget(checksum: str | None = None) -> None:
    """Drops one token (or, with no checksum, every token) from this process's cache."""
    with _lock:
        if checksum is None:
            _entries.clear()
        else:
            _entries.pop(checksum, None)


def _token_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget(getattr(instance, "token_checksum", None) or None)


def _user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget()


def connect_signals() -> None:
    token_model = get_access_token_model()
    for signal in (post_save, post_delete):
        signal.connect(_token_changed, sender=token_model, dispatch_uid=f"token-cache-{signal}")
    post_save.connect(_user_saved, sender=get_user_model(), dispatch_uid="token-cache-user")
