"""The upload size limit, enforced while the multipart body is parsed.

`SizeLimitUploadHandler` sits first in `FILE_UPLOAD_HANDLERS`, so every multipart parse (Django's
`request.FILES`, DRF's `MultiPartParser`, the GraphQL multipart view) goes through it: a body whose
Content-Length already says it is too big is not parsed at all, and otherwise the upload stops as
soon as the file bytes received pass `ATTACHMENT_MAX_BYTES`, before the rest is read or stored.
The view then asks `check_upload_size(request)`, which raises `UploadTooLarge`.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

from ..errors import FieldError, ValidationError

# Room for multipart headers and small fields (the GraphQL `operations` and `map`) beside the file.
MULTIPART_OVERHEAD_BYTES = 1024 * 1024
_FLAG = "attachment_upload_too_large"


class UploadTooLarge(ValidationError):
    """`too_large` on the `file` field; transports answer it with HTTP 413 where they can."""

    def __init__(self) -> None:
        limit = int(settings.ATTACHMENT_MAX_BYTES)
        super().__init__([FieldError("file", "too_large", f"The file is over {limit} bytes.")])


def _django_request(request: Any) -> HttpRequest:
    """The Django request under a DRF `Request` (whose attributes are read-through only)."""
    inner = getattr(request, "_request", request)
    assert isinstance(inner, HttpRequest)
    return inner


class SizeLimitUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.max_bytes = int(settings.ATTACHMENT_MAX_BYTES)
        self.received = 0

    def _refuse(self) -> None:
        if self.request is not None:
            setattr(self.request, _FLAG, True)

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict[str, Any]] | None:
        if content_length > self.max_bytes + MULTIPART_OVERHEAD_BYTES:
            self._refuse()
            # Claims the parse with empty results: not a byte of the body is read.
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        # Counted over every file of the request, so many files cannot add up past the limit.
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self._refuse()
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file


def install_upload_limits(request: Any) -> None:
    """Makes sure the limit handler runs for this request (it does by default, from the settings).
    Call it before reading `request.FILES` / `request.data`. Once the body has been parsed the
    handlers can no longer change; the service still refuses an oversized file then."""
    django_request = _django_request(request)
    handlers = list(django_request.upload_handlers)
    if any(isinstance(handler, SizeLimitUploadHandler) for handler in handlers):
        return
    with contextlib.suppress(AttributeError):  # raised once the body has been parsed
        django_request.upload_handlers = [SizeLimitUploadHandler(django_request), *handlers]


def upload_too_large(request: Any) -> bool:
    return bool(getattr(_django_request(request), _FLAG, False))


def check_upload_size(request: Any) -> None:
    """Raises `UploadTooLarge` when the limit handler stopped this request's upload. Call it after
    the body was parsed, before looking for the file (which a stopped upload leaves out)."""
    if upload_too_large(request):
        raise UploadTooLarge()
