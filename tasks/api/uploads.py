"""Multipart bodies on REST: parsed once, with the upload size limit installed first, and never
read as raw bytes (`request.body` would buffer a whole upload in memory, past the limit)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadedfile import UploadedFile
from django.http import UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions
from rest_framework.request import Request

from tasks.uploads import install_upload_limits, upload_too_large
from tasks.uploads.fingerprint import file_fingerprint

MULTIPART = "multipart/form-data"


def is_multipart(request: Request) -> bool:
    return (request.content_type or "").split(";")[0].strip().lower() == MULTIPART


def parsed_form(request: Request) -> Any:
    """`request.data` (fields and files) of a multipart request, parsed under the size limit. A
    malformed body, or one with too many fields or files, is a 400 problem."""
    install_upload_limits(request)
    try:
        return request.data
    except (MultiPartParserError, UnreadablePostError) as error:
        raise exceptions.ParseError(f"The multipart body is malformed: {error}"[:200]) from None
    except SuspiciousOperation:
        raise exceptions.ParseError("The multipart body has too many or too large parts.") from None


def multipart_fingerprint(request: Request) -> bytes:
    """What identifies a multipart request for Idempotency-Key: its fields, and each file by its
    size and sha256. An upload stopped for its size counts as one well-defined value."""
    form = parsed_form(request)
    parts: list[Any] = [["oversized", upload_too_large(request)]]
    for name in sorted(form.keys()):
        values = [
            file_fingerprint(value) if isinstance(value, UploadedFile) else str(value)
            for value in form.getlist(name)
        ]
        parts.append([name, values])
    return json.dumps(parts, separators=(",", ":")).encode()
