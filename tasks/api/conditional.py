"""Conditional requests on tasks: `ETag` from the version, `If-None-Match` -> 304, and `If-Match`
turned into the `expected_version` the service checks under its row lock (so it is race-free)."""

from __future__ import annotations

import re

from .exceptions import ProblemError

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


def task_etag(task_id: int, version: int) -> str:
    return f'"task-{task_id}-v{version}"'


def _tags(header: str) -> list[tuple[bool, str]] | None:
    """(weak, opaque) pairs of an entity-tag list; None for `*`."""
    if header.strip() == "*":
        return None
    return [(bool(m.group(1)), m.group(2)) for m in _TAG.finditer(header)]


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    tags = _tags(if_none_match)
    if tags is None:
        return True
    return any(f'"{opaque}"' == etag for _weak, opaque in tags)


def expected_version(if_match: str | None, task_id: int, current_version: int) -> int | None:
    """The version an `If-Match` asks for (strong comparison, RFC 9110 13.1.1), or None when the
    header is absent or `*`. A tag that does not match the current version fails with 412."""
    if not if_match:
        return None
    tags = _tags(if_match)
    if tags is None:
        return None
    current = task_etag(task_id, current_version)
    if any(not weak and f'"{opaque}"' == current for weak, opaque in tags):
        return current_version
    raise ProblemError(412, "precondition_failed", "The task has changed since that ETag.")
