"""The sha256 of an uploaded file, computed while its bytes stream in.

`HashingMemoryFileUploadHandler` and `HashingTemporaryFileUploadHandler` are Django's own two
storing handlers (FILE_UPLOAD_HANDLERS) with a digest fed by every chunk each of them keeps; the
finished `UploadedFile` carries it as `sha256`. So the digest is in the upload's 201 on every
backend, with or without a Celery worker, and the bytes are not read again for it.
`sha256_of_upload` reads the digest, or hashes a file that did not come through these handlers
(a `File` handed to the service in-process).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.uploadhandler import (
    MemoryFileUploadHandler,
    TemporaryFileUploadHandler,
)

DIGEST_ATTRIBUTE = "sha256"


class _HashingMixin:
    """Hashes the chunks this handler keeps; a chunk it passes on is the next handler's."""

    _digest: Any = None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        self._digest = hashlib.sha256()
        super().new_file(*args, **kwargs)  # type: ignore[misc]

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        passed_on: bytes | None = super().receive_data_chunk(raw_data, start)  # type: ignore[misc]
        if passed_on is None and self._digest is not None:
            self._digest.update(raw_data)
        return passed_on

    def file_complete(self, file_size: int) -> Any:
        file = super().file_complete(file_size)  # type: ignore[misc]
        if file is not None and self._digest is not None:
            setattr(file, DIGEST_ATTRIBUTE, self._digest.hexdigest())
        return file


class HashingMemoryFileUploadHandler(_HashingMixin, MemoryFileUploadHandler):
    pass


class HashingTemporaryFileUploadHandler(_HashingMixin, TemporaryFileUploadHandler):
    pass


def sha256_of_upload(file: Any) -> str:
    """The digest computed while `file` streamed in, or, for a file that did not come through
    the handlers above, one read of it now (chunked: memory stays bounded)."""
    digest = getattr(file, DIGEST_ATTRIBUTE, None)
    if isinstance(digest, str) and len(digest) == 64:
        return digest
    hasher = hashlib.sha256()
    for chunk in file.chunks():  # a Django `File`: chunks() starts from the beginning
        hasher.update(chunk)
    file.seek(0)
    return hasher.hexdigest()
