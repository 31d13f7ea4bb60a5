"""Secrets never reach the log: the JSON log formatter masks bearer tokens, OAuth secrets,
passwords, cookies and URL credentials in each finished line (message, extra fields and
traceback alike), whichever logger (Django, uvicorn, a library) wrote the record."""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

MASK = "[REDACTED]"
SENSITIVE_NAMES = (
    "access_token|refresh_token|id_token|token|client_secret|secret|password|passwd|"
    "code_verifier|api_key|apikey|authorization|cookie|sessionid|csrftoken"
)
_QUOTE = r"\\?[\"']"
_PATTERNS = [
    # Authorization: Bearer xyz / Basic xyz, in headers, reprs and messages.
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{4,}"), r"\1\2" + MASK),
    # name=value in query strings and form bodies.
    (re.compile(rf"(?i)\b({SENSITIVE_NAMES})=({_QUOTE})?[^&\s\"'\\,;]+"), r"\1=\2" + MASK),
    # "name": "value" in JSON (also escaped inside a JSON string) and 'name': 'value' in reprs.
    (
        re.compile(rf"(?i)({_QUOTE}(?:{SENSITIVE_NAMES}){_QUOTE}\s*:\s*{_QUOTE})(?:[^\"'\\]|\\.)*"),
        r"\1" + MASK,
    ),
    # scheme://user:password@host
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@\"']*:)[^@\s/\"']+@"), r"\1" + MASK + "@"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingJsonFormatter(JsonFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # uvicorn's `color_message` repeats the message with terminal colour codes.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "color_message"])
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
