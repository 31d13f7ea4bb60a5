"""After an upload commits: the derived work, for images the size and a thumbnail (a full
decode), then the `processed` state. The sha256 is not computed here: the upload handlers did
while the bytes streamed in (`uploads.hashing`); only a row stored before that (an empty sha256)
is hashed here. Runs as `jobs.process_attachment` (a Celery worker, or in-process when eager)."""

from __future__ import annotations

import logging

from django.db import transaction

from .. import events
from ..models import Attachment
from . import sniff, storage
from .images import thumbnail

logger = logging.getLogger(__name__)

_IMAGE_KINDS = {kind.content_type: kind for kind in sniff.KINDS if kind.image_format}


def process(attachment_id: int) -> str:
    """Idempotent: an attachment already processed, or gone, is left alone (a redelivered job
    does nothing). Returns the resulting state, or "skipped"."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None or attachment.state != Attachment.State.PENDING:
        return "skipped"
    name = attachment.file.name or ""
    thumb: str | None = None
    size: tuple[int, int] | None = None
    try:
        digest = attachment.sha256 or storage.sha256_of(name)
        kind = _IMAGE_KINDS.get(attachment.content_type)
        if kind is not None:
            with attachment.file.storage.open(name, "rb") as handle:
                width, height, data = thumbnail(handle, kind)
            size = (width, height)
            thumb = storage.save_thumbnail(name, data)
        state = Attachment.State.PROCESSED
    except Exception:  # any failure becomes the attachment's state, not a retry loop
        logger.exception("attachment processing failed", extra={"attachment_id": attachment_id})
        digest, state = attachment.sha256, Attachment.State.FAILED  # the bytes were hashed
    return _record(attachment_id, state=state, digest=digest, size=size, thumb=thumb)


def _record(
    attachment_id: int,
    *,
    state: str,
    digest: str,
    size: tuple[int, int] | None,
    thumb: str | None,
) -> str:
    with transaction.atomic():
        attachment = (
            Attachment.objects.select_for_update(of=("self",))
            .select_related("task", "uploaded_by")
            .filter(pk=attachment_id)
            .first()
        )
        if attachment is None:
            # Deleted while we worked: its files went after that commit; the thumbnail is ours.
            if thumb:
                storage.delete_stored([thumb])
            return "skipped"
        if attachment.state != Attachment.State.PENDING:
            return "skipped"
        attachment.state = state
        attachment.sha256 = digest
        if size is not None:
            attachment.width, attachment.height = size
        attachment.save(update_fields=["state", "sha256", "width", "height"])
        events.attachment_processed(attachment)
    return state
