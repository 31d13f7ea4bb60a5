"""WhiteNoise at the head of the middleware stack, without forcing a thread hop under ASGI."""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware

from .middleware import GetResponse
from .static_files import streaming_serve


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise (6.12, sync-only) made async-capable: a request for a file it serves goes to
        WhiteNoise in a thread, as Django would have sent every request; every other request passes
        straight through, in the loop. The lookup is WhiteNoise's own (`files`, or `find_file` when
        autorefresh is on in DEBUG), so what is served does not change. ServeStatic, WhiteNoise's
    async fork, would do the same with another settings namespace and storage class."""

    sync_capable = True
    async_capable = True
    serve = staticmethod(streaming_serve)  # an async iterator under ASGI: project/static_files.py

    def __init__(self, get_response: GetResponse, *args: Any, **kwargs: Any) -> None:
        super().__init__(get_response, *args, **kwargs)
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # With autorefresh (DEBUG only) the lookup stats a few files: cheap enough for the loop.
        path = request.path_info
        static_file = self.find_file(path) if self.autorefresh else self.files.get(path)
        if static_file is not None:
            served: HttpResponseBase = await sync_to_async(self.serve)(static_file, request)
            return served
        response: HttpResponseBase = await self.get_response(request)
        return response
