"""Images through Pillow, under a pixel limit: a decompression bomb (a small file that decodes to
gigabytes) is refused from its header, before any pixel is allocated."""

from __future__ import annotations

import io
from typing import IO

from django.conf import settings
from PIL import Image, ImageOps

from ..errors import ValidationError
from .sniff import Kind

THUMBNAIL_BOX = (256, 256)
THUMBNAIL_FORMAT = "WEBP"
_EXIF_ORIENTATION = 0x0112
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}  # rotated by 90 or 270 degrees


def _apply_pixel_limit() -> int:
    """Pillow's own guard is a process-wide global; it is set from the settings on every use
    (always to the same value) so that nothing reads settings at import time."""
    limit = int(settings.ATTACHMENT_MAX_IMAGE_PIXELS)
    Image.MAX_IMAGE_PIXELS = limit
    return limit


def _open(file: IO[bytes], kind: Kind) -> Image.Image:
    """Opens (reads the header only) and refuses images over the pixel limit. Pillow raises
    DecompressionBombError itself beyond twice the limit; the explicit check covers the rest."""
    limit = _apply_pixel_limit()
    assert kind.image_format is not None
    file.seek(0)
    image = Image.open(file, formats=[kind.image_format])
    width, height = image.size
    if width < 1 or height < 1 or width * height > limit:
        # Not image.close(): that would close the caller's file, which Pillow only borrowed.
        raise Image.DecompressionBombError(f"{width}x{height} is over the pixel limit")
    return image


def _invalid(message: str) -> ValidationError:
    return ValidationError.single("file", "invalid_image", message)


def verify_image(file: IO[bytes], kind: Kind) -> tuple[int, int]:
    """Checks the structure (`verify`), then decodes the pixels (`load`) of a fresh handle, since
    a verified image cannot be loaded. Returns (width, height); raises `invalid_image`."""
    try:
        with _open(file, kind) as image:
            image.verify()
        with _open(file, kind) as image:
            image.load()
            return image.size
    except Image.DecompressionBombError:
        raise _invalid("The image has too many pixels.") from None
    except Exception:  # noqa: BLE001 - Pillow raises many types for crafted input
        raise _invalid("The file is not a valid image.") from None
    finally:
        file.seek(0)


def thumbnail(file: IO[bytes], kind: Kind) -> tuple[int, int, bytes]:
    """(width, height, thumbnail bytes) of an image, oriented as its EXIF says."""
    try:
        with _open(file, kind) as image:
            width, height = image.size
            if image.getexif().get(_EXIF_ORIENTATION) in _TRANSPOSING_ORIENTATIONS:
                width, height = height, width
            image.draft("RGB", THUMBNAIL_BOX)  # JPEG decodes at a reduced scale: cheaper
            oriented = ImageOps.exif_transpose(image)
            has_alpha = oriented.mode in {"RGBA", "LA", "PA"} or "transparency" in oriented.info
            small = oriented.convert("RGBA" if has_alpha else "RGB")
            small.thumbnail(THUMBNAIL_BOX)
            out = io.BytesIO()
            small.save(out, THUMBNAIL_FORMAT, quality=80)
            return width, height, out.getvalue()
    finally:
        file.seek(0)
