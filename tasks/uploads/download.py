"""The one way attachment bytes leave the server: as a download that no browser renders in the
site's origin, whatever the bytes are."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from ..errors import NotFound
from ..models import Attachment
from .streaming import AsyncFileStream

_TEXT_TYPES = {"text/plain", "text/csv"}


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback `filename` and the exact UTF-8 name in `filename*`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(
        "_" if char in '"\\' or not char.isprintable() else char for char in ascii_name
    ).strip()
    if not ascii_name or ascii_name.startswith("."):
        ascii_name = f"download{ascii_name}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def served_content_type(attachment: Attachment) -> str:
    if attachment.content_type in _TEXT_TYPES:
        return f"{attachment.content_type}; charset=utf-8"
    return attachment.content_type or "application/octet-stream"


def _protect(response: HttpResponseBase, attachment: Attachment) -> HttpResponseBase:
    response["Content-Disposition"] = content_disposition(attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


def _accel_redirect(attachment: Attachment) -> HttpResponse | None:
    """With DOWNLOAD_ACCEL_REDIRECT (an nginx `internal` location over MEDIA_ROOT), nginx sends
    the bytes itself after this access-checked answer; only for files on the local disk."""
    prefix = str(getattr(settings, "DOWNLOAD_ACCEL_REDIRECT", "") or "")
    if not prefix or not isinstance(attachment.file.storage, FileSystemStorage):
        return None
    name = attachment.file.name or ""
    if not attachment.file.storage.exists(name):
        raise NotFound("attachment")
    response = HttpResponse(content_type=served_content_type(attachment))
    response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(name)
    return response


def download_response(attachment: Attachment, request: Any = None) -> HttpResponseBase:
    """A streamed download. The caller has already checked access (`attachment_get`); a file
    missing from storage is NotFound, not a server error.

    Under ASGI the bytes go out through an async iterator (`AsyncFileStream`): Django's
    `FileResponse` over a sync file makes the ASGI handler read the whole file into memory
    before the first byte ("StreamingHttpResponse must consume synchronous iterators"; measured:
    the server grew by the file's size per concurrent download). Under WSGI (and Django's test
    client) `FileResponse` streams as it should, with the server's file wrapper."""
    redirected = _accel_redirect(attachment)
    if redirected is not None:
        return _protect(redirected, attachment)
    storage = attachment.file.storage
    try:
        handle = storage.open(attachment.file.name or "", "rb")
    except (FileNotFoundError, OSError, ValueError):
        raise NotFound("attachment") from None
    content_type = served_content_type(attachment)
    response: HttpResponseBase
    if isinstance(getattr(request, "_request", request), ASGIRequest):
        response = StreamingHttpResponse(AsyncFileStream(handle), content_type=content_type)
        response["Content-Length"] = str(handle.size)
    else:
        response = FileResponse(handle, content_type=content_type)
    return _protect(response, attachment)
