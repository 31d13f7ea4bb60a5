"""The request body limit at the ASGI edge.

Django's ASGI handler reads a whole request body (to a spooled temporary file) before any view or
upload handler runs, so `SizeLimitUploadHandler` alone would still let a client stream gigabytes
to disk. This wrapper answers 413 from the Content-Length before reading a byte, or as soon as
the bytes received pass the limit (chunked uploads), and tells Django the client went away.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings

from .limits import MULTIPART_OVERHEAD_BYTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def body_limit() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES) + MULTIPART_OVERHEAD_BYTES


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    for name, value in scope.get("headers", []):
        if name.lower() == wanted:
            return bytes(value)
    return None


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # Django answers a malformed header itself


def _api_version_header(scope: Scope) -> list[tuple[bytes, bytes]]:
    """Every REST response carries `API-Version` (API.md), this one too."""
    from tasks.api.versioning import version_of_path

    path = str(scope.get("path", ""))
    if not path.startswith("/api/"):
        return []
    return [(b"api-version", version_of_path(path).encode())]


async def _send_too_large(scope: Scope, send: Send, limit: int) -> None:
    # Answered outside Django's middleware, so the request id is added here.
    from project.observability import REQUEST_ID_HEADER, incoming_request_id

    incoming = _header(scope, REQUEST_ID_HEADER.lower().encode())
    request_id = incoming_request_id(incoming.decode("latin-1") if incoming else None)
    body = json.dumps(
        {
            "type": "urn:taskhub:problem:too_large",
            "title": "Content too large",
            "status": 413,
            "detail": f"The request body is over {limit} bytes.",
            "code": "too_large",
            "errors": {"file": [f"The file is over {settings.ATTACHMENT_MAX_BYTES} bytes."]},
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                *_api_version_header(scope),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit()
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_too_large(scope, send, limit)
            return

        received = 0
        exceeded = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    return {"type": "http.disconnect"}  # Django stops reading and gives up
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)
        if exceeded and not response_started:
            await _send_too_large(scope, send, limit)
