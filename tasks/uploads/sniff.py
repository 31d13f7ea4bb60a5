"""What a file is, decided by its bytes alone, for the closed list of accepted types.

A hand-written sniffer rather than libmagic: the list is short, every signature is fixed, and the
checks that matter (a zip is really an Office document, text is really UTF-8, no HTML hides inside)
are not what a generic magic database answers.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from typing import IO

CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True)
class Kind:
    key: str
    content_type: str
    extensions: frozenset[str]
    image_format: str | None = None  # Pillow's name for it, for images

    @property
    def is_text(self) -> bool:
        return self.content_type.startswith("text/")


def _kind(key: str, content_type: str, extensions: str, image_format: str | None = None) -> Kind:
    return Kind(key, content_type, frozenset(extensions.split()), image_format)


_OOXML = "application/vnd.openxmlformats-officedocument"
PDF = _kind("pdf", "application/pdf", "pdf")
PNG = _kind("png", "image/png", "png", "PNG")
JPEG = _kind("jpeg", "image/jpeg", "jpg jpeg jpe jfif", "JPEG")
GIF = _kind("gif", "image/gif", "gif", "GIF")
WEBP = _kind("webp", "image/webp", "webp", "WEBP")
TEXT = _kind("text", "text/plain", "txt text log md markdown rst")
CSV = _kind("csv", "text/csv", "csv")
DOCX = _kind("docx", f"{_OOXML}.wordprocessingml.document", "docx")
XLSX = _kind("xlsx", f"{_OOXML}.spreadsheetml.sheet", "xlsx")
PPTX = _kind("pptx", f"{_OOXML}.presentationml.presentation", "pptx")
KINDS = (PDF, PNG, JPEG, GIF, WEBP, TEXT, CSV, DOCX, XLSX, PPTX)

# Extensions that promise something else: a text file may not wear them. Any other extension
# (`.json`, `.py`, `.yaml`...) is fine on text; binary kinds must wear one of their own.
_ACTIVE_EXTENSION_LIST = (
    "html htm xhtml shtml mht mhtml svg svgz xml xsl xslt js mjs cjs jsx wasm swf "
    "exe dll com bat cmd sh bash ps1 psm1 vbs vbe wsf wsh hta scr msi msp jar apk app dmg iso "
    "php phtml phar asp aspx jsp cgi pl lnk url reg inf "
    "doc docm dotm xls xlsm xltm ppt pptm potm rtf zip rar 7z gz tgz tar"
)
_ACTIVE_EXTENSIONS = frozenset(_ACTIVE_EXTENSION_LIST.split())
_CLAIMED_EXTENSIONS = _ACTIVE_EXTENSIONS.union(*(kind.extensions for kind in KINDS))


def extension_fits(kind: Kind, extension: str) -> bool:
    if not extension or extension in kind.extensions:
        return True
    if kind.is_text:
        return extension not in _CLAIMED_EXTENSIONS
    return False


# Markup that would make a browser (or anything sniffing like one) treat the bytes as a page.
# Whole-file scans use long or terminated tags only, so compressed pixel data does not match them
# by chance.
_ACTIVE_CONTENT = re.compile(
    rb"<(?:script|html|head|body|iframe|frameset|object|embed|svg|!doctype|\?xml-stylesheet)"
    rb"[\s/>]",
    re.IGNORECASE,
)
_MARKER_OVERLAP = 32
# Text that starts like markup is HTML/XML, not plain text.
_MARKUP_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<[a-z!?/]", re.IGNORECASE)


def read_head(file: IO[bytes], size: int = 64) -> bytes:
    file.seek(0)
    head = file.read(size)
    file.seek(0)
    return head


def sniff(file: IO[bytes]) -> Kind | None:
    """The kind of the file's bytes, or None when it is none of the accepted kinds. CSV cannot be
    told from text by its bytes; the caller decides that from the extension."""
    head = read_head(file)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(file)
    if _is_text(file):
        return TEXT
    return None


def _office_kind(file: IO[bytes]) -> Kind | None:
    """An Office Open XML document: a zip with `[Content_Types].xml` and a Word, Excel or
    PowerPoint part. Only the directory is read (nothing is decompressed: no zip bomb), and
    macro-enabled documents are refused."""
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        file.seek(0)
    if "[Content_Types].xml" not in names:
        return None
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return None
    for prefix, kind in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
        if any(name.startswith(prefix) for name in names):
            return kind
    return None


# C0 controls other than tab, line feed, form feed and carriage return mark a binary file.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def _is_text(file: IO[bytes]) -> bool:
    """UTF-8 all the way through, without NUL or other control characters."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    file.seek(0)
    try:
        while chunk := file.read(CHUNK_SIZE):
            text = decoder.decode(chunk)
            if _CONTROL_CHARACTER.search(text):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        file.seek(0)
    head = read_head(file, 1024)
    return not _MARKUP_START.match(head)


def has_active_content(file: IO[bytes]) -> bool:
    """True when HTML, script or SVG markup appears anywhere in the file: the mark of a polyglot
    (an image or PDF that is also a web page)."""
    file.seek(0)
    tail = b""
    try:
        while chunk := file.read(CHUNK_SIZE):
            window = tail + chunk
            if _ACTIVE_CONTENT.search(window):
                return True
            tail = window[-_MARKER_OVERLAP:]
    finally:
        file.seek(0)
    return False
