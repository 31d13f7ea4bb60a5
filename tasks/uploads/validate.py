"""Every check an uploaded file passes before it is stored, in order of cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any, cast

from django.conf import settings

from ..errors import ValidationError
from . import sniff
from .images import verify_image
from .limits import UploadTooLarge
from .names import sanitise_name, split_extension


@dataclass(frozen=True)
class CheckedUpload:
    name: str  # sanitised, for display only
    size: int
    content_type: str  # from the bytes
    kind: sniff.Kind


def _refuse(code: str, message: str) -> ValidationError:
    return ValidationError.single("file", code, message)


def _size_of(file: Any) -> int:
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    file.seek(0, 2)
    end = int(file.tell())
    file.seek(0)
    return end


def check_upload(file: Any, *, name: object = None) -> CheckedUpload:
    """Raises ValidationError with `required`, `invalid_name`, `too_large`, `unsupported_type`
    (including HTML/script polyglots), `type_mismatch` or `invalid_image`. `file` is a Django
    `File` (an `UploadedFile` from a transport); `name` overrides its name."""
    if file is None or not hasattr(file, "read") or not hasattr(file, "seek"):
        raise _refuse("required", "A file is required.")
    clean_name = sanitise_name(file.name if name is None else name)
    size = _size_of(file)
    if size == 0:
        raise _refuse("required", "The file is empty.")
    if size > int(settings.ATTACHMENT_MAX_BYTES):
        raise UploadTooLarge()

    stream = cast(IO[bytes], file)
    kind = sniff.sniff(stream)
    if kind is None:
        raise _refuse(
            "unsupported_type",
            "Accepted files are PDF, PNG, JPEG, GIF, WebP, plain text, CSV and Office documents.",
        )
    _, extension = split_extension(clean_name)
    if kind is sniff.TEXT and extension in sniff.CSV.extensions:
        kind = sniff.CSV
    if not sniff.extension_fits(kind, extension):
        raise _refuse(
            "type_mismatch",
            f"The file's contents ({kind.key}) do not match its name (.{extension}).",
        )
    if sniff.has_active_content(stream):
        raise _refuse("unsupported_type", "The file contains HTML or script markup.")
    if kind.image_format is not None:
        verify_image(stream, kind)
    return CheckedUpload(name=clean_name, size=size, content_type=kind.content_type, kind=kind)
