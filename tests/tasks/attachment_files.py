"""Small files of every accepted kind, and the hostile ones, made in memory for the attachment
tests."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
TEXT = "Meeting notes\n\tcafé, naïve, 日本語\r\n".encode()
CSV = b"id,title\n1,Write the docs\n2,Ship it\n"


def image(fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB", **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 60) if mode == "RGB" else 128).save(out, fmt, **save)
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    return image("PNG", size)


def office(part: str, *extra: str) -> bytes:
    """A minimal Office Open XML package with `part` (word/, xl/ or ppt/) in it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(part, '<?xml version="1.0"?><document/>')
        for name in extra:
            archive.writestr(name, b"\x00macro")
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


def png_with_html() -> bytes:
    """A valid PNG carrying a web page in a text chunk: the classic image/HTML polyglot."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<html><body><script>alert(document.cookie)</script></body></html>")
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A genuine width x height PNG (1-bit greyscale, all black) that compresses to a few dozen
    KiB; decoded to 8-bit pixels it would need 400 MB. Made with zlib, row by row: Pillow never
    allocates it."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte, then the packed bits
    compressor = zlib.compressobj(9)
    rows_per_block = 1000
    parts = [compressor.compress(row * rows_per_block) for _ in range(height // rows_per_block)]
    parts.append(compressor.compress(row * (height % rows_per_block)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)
