"""Attachment uploads: size limits while streaming, type sniffing, image checks, safe names,
random storage keys and the download response. The write itself is `services.attachment_add`;
background processing is `jobs.process_attachment`.

For transports:
    install_upload_limits(request)   before reading request.FILES / request.data (optional: the
                                      limit handler is in FILE_UPLOAD_HANDLERS already)
    check_upload_size(request)       after parsing; raises UploadTooLarge (code `too_large`, 413)
    sha256_of_upload(file)           the digest the upload handlers computed while it streamed in
    services.attachment_add(actor=..., task_id=..., file=uploaded_file)
    download_response(attachment)    after selectors.attachment_get(actor, id)
"""

from __future__ import annotations

from .download import content_disposition, download_response
from .hashing import sha256_of_upload
from .limits import (
    SizeLimitUploadHandler,
    UploadTooLarge,
    check_upload_size,
    install_upload_limits,
    upload_too_large,
)
from .storage import thumbnail_name
from .validate import CheckedUpload, check_upload

__all__ = [
    "CheckedUpload",
    "SizeLimitUploadHandler",
    "UploadTooLarge",
    "check_upload",
    "check_upload_size",
    "content_disposition",
    "download_response",
    "install_upload_limits",
    "sha256_of_upload",
    "thumbnail_name",
    "upload_too_large",
]
