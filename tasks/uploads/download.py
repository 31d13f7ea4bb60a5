"""The one way attachment bytes leave the server: as a download that no browser renders in the
site's origin, whatever the bytes are."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from django.http import FileResponse

from ..errors import NotFound
from ..models import Attachment

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


def download_response(attachment: Attachment) -> FileResponse:
    """A streamed download. The caller has already checked access (`attachment_get`); a file
    missing from storage is NotFound, not a server error."""
    storage = attachment.file.storage
    try:
        handle = storage.open(attachment.file.name or "", "rb")
    except (FileNotFoundError, OSError, ValueError):
        raise NotFound("attachment") from None
    response = FileResponse(handle, content_type=served_content_type(attachment))
    response["Content-Disposition"] = content_disposition(attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response
