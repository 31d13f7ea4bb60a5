"""The shape of a middleware that runs in the handler's own mode: under ASGI it is a coroutine
and Django inserts no thread hop for it (a sync-only middleware costs each request two hops,
`sync_to_async` in and `async_to_sync` out; issue 19 measured three of them on every request)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

GetResponse = Callable[[HttpRequest], Any]


class ResponseMiddleware:
    """Subclasses implement `before(request)` (a response that answers the request early, or
    None) and/or `process(request, response) -> response`; neither may block."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        early = self.before(request)
        if early is not None:
            return early
        return self.process(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        early = self.before(request)
        if early is not None:
            return early
        pending: Awaitable[HttpResponseBase] = self.get_response(request)
        response: HttpResponseBase = self.process(request, await pending)
        return response

    def before(self, request: HttpRequest) -> HttpResponseBase | None:
        return None

    def process(self, request: HttpRequest, response: Any) -> Any:
        return response
