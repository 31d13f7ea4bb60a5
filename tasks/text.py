"""Validators for short human-readable text (titles, names, comments), attached to the model
fields and run by the services.

A title made only of invisible characters looks empty in every client, and bidirectional
embedding/override/isolate controls (U+202A-U+202E, U+2066-U+2069) make text display in an order
other than the one stored ("Trojan Source", CVE-2021-42574): `\\u202eevil` shows as "live".
Right-to-left scripts need none of these controls to display correctly.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters outside the Cc/Cf/Z* categories that still render as nothing.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})


def _visible(char: str) -> bool:
    return char not in BLANK_LETTERS and unicodedata.category(char) not in INVISIBLE_CATEGORIES


def validate_display_text(value: str) -> None:
    """Refuses text holding a bidi control, or (when not empty) nothing visible."""
    if any(char in BIDI_CONTROLS for char in value):
        raise ValidationError(
            "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069).",
            code="invalid",
        )
    if value and not any(_visible(char) for char in value):
        raise ValidationError("must contain a visible character.", code="invalid")
