"""Where attachment bytes live: Django's default storage (local files, or S3 when configured),
under random keys. The client's name never becomes a path."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)

THUMBNAIL_SUFFIX = ".thumb.webp"


def new_key(project_id: int) -> str:
    return f"attachments/{project_id}/{uuid.uuid4().hex}"


def thumbnail_name(name: str) -> str:
    return f"{name}{THUMBNAIL_SUFFIX}"


def save_upload(project_id: int, file: File) -> str:  # type: ignore[type-arg]
    file.seek(0)
    return str(default_storage.save(new_key(project_id), file))


def save_thumbnail(name: str, data: bytes) -> str:
    target = thumbnail_name(name)
    default_storage.delete(target)  # reprocessing replaces it instead of getting a new name
    return str(default_storage.save(target, ContentFile(data)))


def sha256_of(name: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as handle:
        for chunk in handle.chunks():
            digest.update(chunk)
    return digest.hexdigest()


def delete_stored(names: Iterable[str]) -> None:
    """Deletes files and their thumbnails; a failure is logged, never raised (this runs after
    the commit, or while another error is already on its way)."""
    for name in names:
        if not name:
            continue
        for target in (name, thumbnail_name(name)):
            try:
                default_storage.delete(target)
            except Exception:  # noqa: BLE001 - any storage backend error: log and go on
                logger.warning("could not delete stored file", extra={"file": target})
