"""The streaming size limit: the upload handler stops a multipart body as it is parsed, for a plain
Django request (GraphQL multipart) and for DRF's parser (REST)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test import RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request

from tasks.uploads import (
    SizeLimitUploadHandler,
    UploadTooLarge,
    check_upload_size,
    install_upload_limits,
    upload_too_large,
)

LIMIT = 100 * 1024


class CountingStream(io.BytesIO):
    """The request body, remembering how much of it was read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def multipart_request(fields: dict[str, Any]) -> tuple[Any, CountingStream, int]:
    body = encode_multipart(BOUNDARY, fields)
    environ = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(body))}
    request = RequestFactory().generic("POST", "/upload/", **environ)
    stream = CountingStream(body)
    request._stream = stream
    return request, stream, len(body)


@pytest.fixture(autouse=True)
def _limit(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = LIMIT


def graphql_fields(data: bytes) -> dict[str, Any]:
    """A GraphQL multipart request (operations, map, then the file), as Apollo sends it."""
    operations = {
        "query": "mutation($file: Upload!) { uploadAttachment(input: {taskId: 1, file: $file}) "
        "{ errors { code } } }",
        "variables": {"file": None},
    }
    return {
        "operations": json.dumps(operations),
        "map": json.dumps({"0": ["variables.file"]}),
        "0": SimpleUploadedFile("big.bin", data),
    }


def test_the_limit_handler_is_installed_by_default() -> None:
    request = RequestFactory().post("/upload/", data={"file": SimpleUploadedFile("a.txt", b"a")})
    assert isinstance(request.upload_handlers[0], SizeLimitUploadHandler)


def test_upload_within_the_limit_passes_through_intact() -> None:
    data = b"x" * LIMIT
    request, _, _ = multipart_request({"file": SimpleUploadedFile("ok.txt", data)})

    assert request.FILES["file"].read() == data
    assert not upload_too_large(request)
    check_upload_size(request)  # does not raise


def test_too_large_upload_stops_while_streaming() -> None:
    data = b"x" * (6 * LIMIT)  # under the Content-Length shortcut: the handler counts the bytes
    request, stream, body_length = multipart_request(graphql_fields(data))

    files = request.FILES
    assert "0" not in files
    assert upload_too_large(request)
    assert stream.consumed < body_length / 2  # the rest of the body was never read
    assert json.loads(request.POST["map"]) == {"0": ["variables.file"]}
    with pytest.raises(UploadTooLarge) as caught:
        check_upload_size(request)
    assert caught.value.codes == ["too_large"]
    assert caught.value.errors[0].field == "file"


def test_content_length_over_the_limit_is_refused_before_reading() -> None:
    data = b"x" * (LIMIT + 2 * 1024 * 1024)
    request, stream, _ = multipart_request({"file": SimpleUploadedFile("big.bin", data)})

    assert dict(request.FILES) == {}
    assert stream.consumed == 0
    with pytest.raises(UploadTooLarge):
        check_upload_size(request)


def test_many_small_files_add_up() -> None:
    parts = {f"f{i}": SimpleUploadedFile(f"{i}.txt", b"x" * (LIMIT // 3)) for i in range(4)}
    request, _, _ = multipart_request(parts)

    assert len(request.FILES) < 4
    assert upload_too_large(request)


def test_drf_multipart_parser_is_limited_too() -> None:
    data = b"x" * (6 * LIMIT)
    django_request, stream, body_length = multipart_request(
        {"file": SimpleUploadedFile("big.bin", data)}
    )
    request = Request(django_request, parsers=[MultiPartParser()])
    install_upload_limits(request)

    assert "file" not in request.FILES
    assert stream.consumed < body_length / 2
    with pytest.raises(UploadTooLarge):
        check_upload_size(request)


def test_install_upload_limits_adds_the_handler_when_settings_lack_it(settings: Any) -> None:
    settings.FILE_UPLOAD_HANDLERS = [
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    request, stream, body_length = multipart_request(
        {"file": SimpleUploadedFile("big.bin", b"x" * (6 * LIMIT))}
    )
    install_upload_limits(request)
    install_upload_limits(request)  # idempotent

    kinds = [type(handler) for handler in request.upload_handlers]
    assert kinds == [SizeLimitUploadHandler, MemoryFileUploadHandler, TemporaryFileUploadHandler]
    assert "file" not in request.FILES
    assert stream.consumed < body_length / 2


def test_install_after_parsing_is_harmless() -> None:
    request, _, _ = multipart_request({"file": SimpleUploadedFile("a.txt", b"abc")})
    assert request.FILES["file"].read() == b"abc"
    install_upload_limits(request)  # too late to change handlers: no error, nothing changes
    check_upload_size(request)
