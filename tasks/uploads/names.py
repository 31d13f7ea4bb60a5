"""The client's file name, reduced to safe display metadata. It never reaches the storage layer:
files are stored under random keys (`tasks.uploads.storage`)."""

from __future__ import annotations

import unicodedata

from ..errors import ValidationError

MAX_NAME_LENGTH = 200
MAX_EXTENSION_LENGTH = 16

# Reserved on Windows and meaningful in headers and shells: replaced, not kept.
_REPLACED = frozenset('<>:"|?*')
# Control (Cc), format (Cf: e.g. U+202E RIGHT-TO-LEFT OVERRIDE, used to disguise extensions),
# line/paragraph separators and unassigned code points are dropped.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def split_extension(name: str) -> tuple[str, str]:
    """`("report", "pdf")` for `report.pdf`; no extension for `.hidden`, `name.` or a long tail."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not ext or len(ext) > MAX_EXTENSION_LENGTH or " " in ext:
        return name, ""
    return stem, ext.lower()


def sanitise_name(raw: object) -> str:
    """Strips path components (`/` and `\\`), `..`, NUL and control characters, surrounding dots
    and spaces; shortens to MAX_NAME_LENGTH keeping the extension. Raises `invalid_name` when
    nothing usable is left."""
    if not isinstance(raw, str):
        raise ValidationError.single("file", "invalid_name", "The file has no usable name.")
    name = unicodedata.normalize("NFC", raw)
    name = "".join(
        "_" if char in _REPLACED else char
        for char in name
        if unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    while ".." in name:
        name = name.replace("..", ".")
    name = name.strip(" .\t")
    if len(name) > MAX_NAME_LENGTH:
        stem, ext = split_extension(name)
        suffix = f".{ext}" if ext else ""
        name = stem[: MAX_NAME_LENGTH - len(suffix)].rstrip(" .") + suffix
    if not name or not split_extension(name)[0].strip(" ._-"):
        raise ValidationError.single("file", "invalid_name", "The file has no usable name.")
    return name
