"""API versions: `/api/v1/` and `/api/v2/` in the URL path, echoed in an `API-Version` header."""

from __future__ import annotations

import re

from rest_framework.versioning import URLPathVersioning

ALLOWED_VERSIONS = ("v1", "v2")
DEFAULT_VERSION = "v1"

_PATH_VERSION = re.compile(r"^/api/(v\d+)/")


class ApiVersioning(URLPathVersioning):
    default_version = DEFAULT_VERSION
    allowed_versions = ALLOWED_VERSIONS
    version_param = "version"


def version_of_path(path: str, query_version: str | None = None) -> str:
    """The version a response under /api/ speaks, for responses no versioned view produced."""
    match = _PATH_VERSION.match(path)
    candidate = match.group(1) if match else query_version
    return candidate if candidate in ALLOWED_VERSIONS else DEFAULT_VERSION
