"""Django's own middleware, run in the event loop under ASGI wherever it does no I/O.

Django's `MiddlewareMixin.__acall__` sends each `process_request` and `process_response` of a
`MiddlewareMixin` middleware through `sync_to_async` under ASGI (and `BaseHandler` wraps each
sync `process_view` the same way): a thread hop each, whether or not the method can block.
The seven built-ins in `settings.MIDDLEWARE` cost every request 13 such hops, of the 16 it
took in all (the other three: the `request_started` receivers, the view, `response.close()`).
One hop measured ~80 us of CPU with the loop and the request's thread on one core (the way
`bench/` pins the server), plus a wake-up of each; and a `updateTask` over HTTP spent ~16% of
its server CPU in asgiref's hop machinery (`SyncToAsync.__init__`/`__call__`, yappi). With
the hops only where they are needed, under uvicorn (SQLite, two servers side by side, 15
rounds of 20 requests each, medians): server CPU per `updateTask` 11.0 -> 10.0 ms and its
round trip 11.5 -> 10.7 ms; with SQLite's connections pooled as well (project/sqlite),
9.0 -> 7.5 ms and 9.9 -> 8.2 ms (bench/PROFILES.md).

`LoopMiddlewareMixin` keeps `MiddlewareMixin`'s contract (`process_request`, then the inner
handler unless it answered, then `process_response`), and only changes where each method
runs: in the loop, unless its `*_needs_thread` hook says that this call may reach the
database or a file, in which case it goes through `sync_to_async` exactly as Django would
have sent it. The methods' own code is Django's, unchanged; each subclass below names the I/O
its Django class can do and when. A method that touched the database in the loop anyway
would fail loudly (Django's `async_unsafe` raises `SynchronousOnlyOperation`), not silently;
tests/test_loop_middleware.py drives the session, message and CSRF paths that do I/O
through the ASGI handler, and pins the hop count. Under WSGI, and in Django's sync test
client, nothing changes: `MiddlewareMixin.__call__` runs the methods in place as before.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.core import checks
from django.http import HttpRequest, HttpResponseBase
from django.middleware import clickjacking, common, csrf, security

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class LoopMiddlewareMixin:
    """Mixed in before a `MiddlewareMixin` class: its `__acall__` replaces Django's."""

    get_response: Any

    def request_needs_thread(self, request: HttpRequest) -> bool:
        """Whether this `process_request` call may block (read the database or a file)."""
        return False

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        """Whether this `process_response` call may block."""
        return False

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase | None = None
        process_request = getattr(self, "process_request", None)
        if process_request is not None:
            if self.request_needs_thread(request):
                response = await sync_to_async(process_request, thread_sensitive=True)(request)
            else:
                response = process_request(request)
        if response is None:
            response = await self.get_response(request)
        process_response = getattr(self, "process_response", None)
        if process_response is not None:
            if self.response_needs_thread(request, response):
                response = await sync_to_async(process_response, thread_sensitive=True)(
                    request, response
                )
            else:
                response = process_response(request, response)
        assert response is not None
        return response


class SecurityMiddleware(LoopMiddlewareMixin, security.SecurityMiddleware):
    """Headers and the HTTPS redirect: no I/O."""


class CommonMiddleware(LoopMiddlewareMixin, common.CommonMiddleware):
    """User-agent check, slash and www redirects (a URL resolve), Content-Length: no I/O."""


class XFrameOptionsMiddleware(LoopMiddlewareMixin, clickjacking.XFrameOptionsMiddleware):
    """A header: no I/O."""


class AuthenticationMiddleware(LoopMiddlewareMixin, auth.AuthenticationMiddleware):
    """`request.user` and `request.auser` are set lazily: the session and the user are read
    where they are first used (the view, in its thread), not here."""


class SessionMiddleware(LoopMiddlewareMixin, sessions.SessionMiddleware):
    """`process_request` makes a lazy session store; `process_response` saves it, the only
    I/O, when it was modified or `SESSION_SAVE_EVERY_REQUEST` is on (Django's own condition;
    `accessed`, `modified` and `is_empty()` read no store)."""

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        session = getattr(request, "session", None)
        return session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)


class MessageMiddleware(LoopMiddlewareMixin, messages.MessageMiddleware):
    """`process_request` makes a lazy storage; `process_response` stores messages, which may
    load or write the session, only when some were read or added (`BaseStorage.update`)."""

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and bool(storage.used or storage.added_new)


class CsrfViewMiddleware(LoopMiddlewareMixin, csrf.CsrfViewMiddleware):
    """The secret is read from a cookie and the new one set as a cookie: no I/O, unless
    `CSRF_USE_SESSIONS` keeps it in the session. `process_view` reads the form body for an
    unsafe method on a view that is not exempt (multipart parsing can spool uploads to disk):
    that check keeps its thread; exempt views and safe methods are decided in the loop."""

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        if getattr(self, "async_mode", False):
            # `BaseHandler.load_middleware` wraps a sync `process_view` in `sync_to_async`
            # and calls a coroutine function as is; the sync one stays for sync mode.
            self.process_view = self._process_view_in_loop  # type: ignore[method-assign,assignment]

    def request_needs_thread(self, request: HttpRequest) -> bool:
        return bool(settings.CSRF_USE_SESSIONS)

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return bool(settings.CSRF_USE_SESSIONS and request.META.get("CSRF_COOKIE_NEEDS_UPDATE"))

    async def _process_view_in_loop(
        self, request: HttpRequest, callback: Any, args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        process_view = csrf.CsrfViewMiddleware.process_view
        if settings.CSRF_USE_SESSIONS or not (
            getattr(request, "csrf_processing_done", False)
            or getattr(callback, "csrf_exempt", False)
            or request.method in SAFE_METHODS
        ):
            checked: HttpResponseBase | None = await sync_to_async(
                process_view, thread_sensitive=True
            )(self, request, callback, args, kwargs)
            return checked
        return process_view(self, request, callback, args, kwargs)


def check_security_middleware(**kwargs: Any) -> list[checks.CheckMessage]:
    """Django's deploy checks security.W001-W003 look for Django's own dotted paths in
    MIDDLEWARE and so would flag the subclasses above (settings.py silences those three);
    this is the same check with a subclass accepted: one warning per missing class."""
    from django.utils.module_loading import import_string

    present = []
    for name in settings.MIDDLEWARE:
        try:
            present.append(import_string(name))
        except ImportError:
            continue
    warnings: list[checks.CheckMessage] = []
    for required, check_id in (
        (security.SecurityMiddleware, "project.W001"),
        (clickjacking.XFrameOptionsMiddleware, "project.W002"),
        (csrf.CsrfViewMiddleware, "project.W003"),
    ):
        if not any(isinstance(cls, type) and issubclass(cls, required) for cls in present):
            warnings.append(
                checks.Warning(
                    f"{required.__module__}.{required.__name__} (or a subclass) is not in "
                    "MIDDLEWARE: its protection is off.",
                    id=check_id,
                )
            )
    return warnings
