"""How an uploaded file takes part in an Idempotency-Key fingerprint: by its bytes, read from the
parsed upload (never from the raw request body, which a multipart request must not be read as)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.uploadedfile import UploadedFile


def file_fingerprint(upload: UploadedFile[Any]) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"upload:{upload.size}:{digest.hexdigest()}"
