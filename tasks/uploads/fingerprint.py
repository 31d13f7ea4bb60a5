"""How an uploaded file takes part in an Idempotency-Key fingerprint: by its bytes, read from the
parsed upload (never from the raw request body, which a multipart request must not be read as)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile

from .hashing import sha256_of_upload


def file_fingerprint(upload: UploadedFile[Any]) -> str:
    return f"upload:{upload.size}:{sha256_of_upload(upload)}"
