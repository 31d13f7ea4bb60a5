"""The request body limit at the ASGI edge: 413 from the Content-Length, or as soon as streamed
bytes pass the limit, before Django has spooled the body."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tasks.uploads.asgi import RequestBodyLimit, body_limit
from tasks.uploads.limits import MULTIPART_OVERHEAD_BYTES


@pytest.fixture(autouse=True)
def _small_limit(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1000


class Recorder:
    """A stand-in for Django: reads the whole body, then answers 200."""

    def __init__(self) -> None:
        self.called = False
        self.body = b""
        self.disconnected = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.called = True
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                return  # as Django does: RequestAborted, no response
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def run(app: Any, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[list[Any], int]:
    sent: list[Any] = []
    pending = list(chunks)

    async def receive() -> dict[str, Any]:
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/upload/", "headers": headers}
    asyncio.run(RequestBodyLimit(app)(scope, receive, send))
    return sent, len(chunks) - len(pending)


def status_of(sent: list[Any]) -> int:
    return int(next(m for m in sent if m["type"] == "http.response.start")["status"])


def test_limit_is_the_attachment_limit_plus_multipart_room() -> None:
    assert body_limit() == 1000 + MULTIPART_OVERHEAD_BYTES


def test_declared_length_over_the_limit_is_refused_unread() -> None:
    app = Recorder()
    sent, chunks_read = run(app, [b"x"], [(b"content-length", str(body_limit() + 1).encode())])

    assert status_of(sent) == 413
    assert b'"code": "too_large"' in sent[1]["body"]
    assert chunks_read == 0
    assert not app.called


def test_streamed_body_is_cut_off_once_it_passes_the_limit() -> None:
    app = Recorder()
    chunk = b"x" * (256 * 1024)
    sent, chunks_read = run(app, [chunk] * 40, [])  # chunked: no Content-Length

    assert status_of(sent) == 413
    assert chunks_read < 10  # of 40: the rest was never received
    assert app.disconnected


def test_body_within_the_limit_passes_through() -> None:
    app = Recorder()
    sent, _ = run(app, [b"a" * 500, b"b" * 500], [(b"content-length", b"1000")])

    assert status_of(sent) == 200
    assert app.body == b"a" * 500 + b"b" * 500


def test_other_scopes_pass_untouched() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(RequestBodyLimit(app)({"type": "websocket"}, None, None))  # type: ignore[arg-type]
    assert seen == ["websocket"]


@pytest.mark.e2e
def test_live_server_answers_413_while_the_upload_streams(asgi_server: Any) -> None:
    def body() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * (64 * 1024)

    with httpx.Client(base_url=asgi_server.url, timeout=30) as client:
        declared = client.post(
            "/graphql",
            content=b"x" * (body_limit() + 1),
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        streamed = client.post(
            "/graphql", content=body(), headers={"content-type": "multipart/form-data; boundary=x"}
        )

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "too_large"
        assert response.headers["x-request-id"]
