"""How WhiteNoise's files are sent under ASGI: through an async iterator.

WhiteNoise 6 answers with a `FileResponse` over a sync file, which Django's ASGI handler reads
whole into memory before the first byte, warning "StreamingHttpResponse must consume synchronous
iterators" (seen for the Swagger UI and GraphiQL assets in the test suite). Under ASGI
`streaming_serve` sends the same file, status and headers through `tasks.uploads.streaming`'s
`AsyncFileStream` instead; under WSGI it is WhiteNoise's own `serve`. `project.static`'s
middleware uses it.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware

from tasks.uploads.streaming import AsyncFileStream


def streaming_serve(static_file: Any, request: Any) -> HttpResponseBase:
    if not isinstance(request, ASGIRequest):
        served: HttpResponseBase = WhiteNoiseMiddleware.serve(static_file, request)
        return served
    response = static_file.get_response(request.method, request.META)
    answer: HttpResponseBase
    if response.file is None:  # HEAD, 304, 405: headers only
        answer = HttpResponse(status=int(response.status))
    else:
        answer = StreamingHttpResponse(AsyncFileStream(response.file), status=int(response.status))
    del answer["Content-Type"]  # WhiteNoise's headers say it, or nothing should
    for key, value in response.headers:
        answer[key] = value
    return answer
