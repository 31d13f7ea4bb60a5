"""Who is on the other end of a WebSocket, and may a browser page open it at all.

Credentials come from an `Authorization: Bearer` header or the Django session cookie at the
handshake (resolved here into `scope["credentials"]`), or later from the socket's first message
(`authenticate`, `connection_init`), which the consumers pass to `credentials_from_token`.
Never from the query string.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http.cookie import parse_cookie

from project.auth import SESSION_SCOPES, authenticate_token, bearer_from_header
from project.origin import origin_allowed as origin_allowed  # re-exported; lives in project/


@dataclass(frozen=True, slots=True)
class Credentials:
    """A socket's credentials, kept for its lifetime (slotted: see `watch.Watch`)."""

    user: Any
    scopes: frozenset[str]
    token_id: int | None  # None for a browser session
    session_key: str | None = None  # the Django session a browser socket signed in with

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


async def credentials_from_token(raw_token: object) -> Credentials | None:
    if not isinstance(raw_token, str):
        return None
    auth = await database_sync_to_async(authenticate_token)(raw_token)
    if auth is None:
        return None
    return Credentials(user=auth.user, scopes=auth.scopes, token_id=auth.token_id)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class _HandshakeCredentials:
    """Sets `scope["credentials"]` (Credentials or None) and `scope["credentials_rejected"]`
    (True when a bearer header was sent but is not valid: that is a 4401, not "anonymous").

    It adds these two keys to the server's scope in place, not to a copy as Channels'
    `BaseMiddleware` does (the ASGI spec advises a copy so that changes do not leak upstream).
    Upstream of it are only this process's own wrappers (project/asgi.py) and the server, none
    of which reads these keys, and a scope serves one connection only (routing.py's router
    adds its keys in place too). The session and its cookies are read for the sign-in only and
    not kept in the scope (no consumer reads them). Nor does a handshake without credentials
    (no `Authorization` header, no session cookie: a graphql-transport-ws client signing in
    with `connection_init`) keep a coroutine frame of this middleware for the socket's
    lifetime. Measured with tracemalloc over 1,000 idle GraphQL subscribers: the copy, the
    session store and the frame were about 1 KB per socket."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Awaitable[Any]:
        header = _header(scope, b"authorization")
        cookie = _header(scope, b"cookie")
        if not header and not cookie:
            scope.update(credentials=None, credentials_rejected=False)
            return self.app(scope, receive, send)  # type: ignore[no-any-return]
        return self._resolved(scope, receive, send, header, cookie)

    # Not `async def`, but an ASGI 3 application all the same: marked so that asgiref and
    # servers (`guarantee_single_callable`, uvicorn) do not take it for an ASGI 2 one.
    inspect.markcoroutinefunction(__call__)

    async def _resolved(
        self,
        scope: dict[str, Any],
        receive: Any,
        send: Any,
        header: str | None,
        cookie: str | None,
    ) -> Any:
        credentials = await _handshake_credentials(header, cookie)
        rejected = credentials is _REJECTED
        scope.update(credentials=None if rejected else credentials, credentials_rejected=rejected)
        return await self.app(scope, receive, send)


_REJECTED = object()


async def _handshake_credentials(header: str | None, cookie: str | None) -> Any:
    """Credentials, None (anonymous) or `_REJECTED` (a bearer header that is not valid, or
    another scheme: refused, as over HTTP)."""
    bearer = bearer_from_header(header)
    if bearer is not None:
        credentials = await credentials_from_token(bearer)
        return _REJECTED if credentials is None else credentials
    if header:
        return _REJECTED
    cookies = parse_cookie(cookie or "")
    session = import_module(settings.SESSION_ENGINE).SessionStore(
        cookies.get(settings.SESSION_COOKIE_NAME)
    )
    if not session.session_key:
        return None
    user = await get_user({"session": session})
    if user.is_authenticated and user.is_active:
        return Credentials(
            user=user, scopes=SESSION_SCOPES, token_id=None, session_key=session.session_key
        )
    return None


def HandshakeAuthStack(app: Any) -> Any:
    """The session is read once, at the handshake, and never saved: a socket does not change
    it. Channels' SessionMiddlewareStack would also wrap `send` to check the session on every
    frame out, which cost about a tenth of a 1,000-socket fan-out."""
    return _HandshakeCredentials(app)


# --- Origin ---------------------------------------------------------------------------------------


class RefuseConnection(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.close()


class OriginValidator:
    """Refuses, at the handshake (HTTP 403), a WebSocket whose browser Origin is foreign. Unlike
    Channels' `AllowedHostsOriginValidator`, a request without an Origin header passes."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.refuse = RefuseConnection.as_asgi()

    def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Awaitable[Any]:
        """Returns the inner application's awaitable instead of awaiting it: no frame of this
        check stays alive for the socket's lifetime (about 300 bytes per socket)."""
        if scope["type"] == "websocket" and not origin_allowed(_header(scope, b"origin")):
            return self.refuse(scope, receive, send)  # type: ignore[no-any-return]
        return self.app(scope, receive, send)  # type: ignore[no-any-return]

    inspect.markcoroutinefunction(__call__)  # an ASGI 3 application (see above)
