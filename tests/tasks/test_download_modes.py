"""How a download leaves the server: an async iterator under ASGI (bounded memory, no Django
warning), `FileResponse` under WSGI and the test client, and `X-Accel-Redirect` for nginx when
DOWNLOAD_ACCEL_REDIRECT is set; always with the protective headers."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.test import AsyncRequestFactory
from rest_framework.test import APIClient

from tasks import services
from tasks.errors import NotFound
from tasks.uploads import download_response
from tasks.uploads.streaming import AsyncFileStream
from tests.factories import make_token
from tests.tasks import attachment_files as files
from tests.tasks.attachment_files import upload


def add(actor: Any, task: Any, filename: str, data: bytes) -> Any:
    return services.attachment_add(actor=actor, task_id=task.pk, file=upload(filename, data))


def assert_protected(response: Any) -> None:
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cache-Control"] == "private, no-store"


def test_under_asgi_the_bytes_stream_from_an_async_iterator(
    media_root: Any, task: Any, member: Any
) -> None:
    attachment = add(member, task, "r.pdf", files.PDF)
    request = AsyncRequestFactory().get("/download/")

    response = download_response(attachment, request)

    assert isinstance(response, StreamingHttpResponse) and response.is_async
    assert response["Content-Length"] == str(len(files.PDF))
    assert_protected(response)

    async def consume() -> bytes:
        return b"".join([chunk async for chunk in response])

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django's "must consume ... iterators" would raise
        assert asyncio.run(consume()) == files.PDF
    response.close()


def test_the_async_stream_reads_one_chunk_at_a_time_and_closes(media_root: Any) -> None:
    class Handle:
        def __init__(self) -> None:
            self.reads: list[int] = []
            self.closed = False
            self.left = 10

        def read(self, size: int) -> bytes:
            self.reads.append(size)
            if not self.left:
                return b""
            self.left -= 1
            return b"x" * size

        def close(self) -> None:
            self.closed = True

    handle = Handle()

    async def consume() -> int:
        return sum([len(chunk) async for chunk in AsyncFileStream(handle, chunk_size=1000)])  # type: ignore[arg-type]

    assert asyncio.run(consume()) == 10_000
    assert handle.reads == [1000] * 11 and handle.closed


def test_without_asgi_the_download_is_a_file_response(
    media_root: Any, task: Any, member: Any
) -> None:
    response = download_response(add(member, task, "r.pdf", files.PDF))
    assert isinstance(response, FileResponse)
    assert b"".join(response.streaming_content) == files.PDF
    response.close()


def test_accel_redirect_hands_the_file_to_nginx(
    media_root: Any, task: Any, member: Any, settings: Any
) -> None:
    settings.DOWNLOAD_ACCEL_REDIRECT = "/_attachments/"
    attachment = add(member, task, "r.pdf", files.PDF)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(member)}")

    response = client.get(f"/api/v1/attachments/{attachment.pk}/download/")

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/_attachments/{attachment.file.name}"
    assert response.content == b""  # nginx sends the bytes
    assert response["Content-Type"] == "application/pdf"
    assert_protected(response)


def test_accel_redirect_of_a_missing_file_is_not_found(
    media_root: Any, task: Any, member: Any, settings: Any
) -> None:
    settings.DOWNLOAD_ACCEL_REDIRECT = "/_attachments/"
    attachment = add(member, task, "r.pdf", files.PDF)
    attachment.file.storage.delete(attachment.file.name)
    with pytest.raises(NotFound):
        download_response(attachment)


def test_accel_redirect_still_checks_access(
    media_root: Any, task: Any, member: Any, outsider: Any, settings: Any
) -> None:
    settings.DOWNLOAD_ACCEL_REDIRECT = "/_attachments/"
    attachment = add(member, task, "r.pdf", files.PDF)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(outsider)}")

    response = client.get(f"/api/v1/attachments/{attachment.pk}/download/")

    assert response.status_code == 404
    assert "X-Accel-Redirect" not in response
