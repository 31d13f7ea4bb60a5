"""API versions: `/api/v1/` and `/api/v2/` in the URL path, echoed in an `API-Version` header."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import exceptions
from rest_framework.versioning import URLPathVersioning

ALLOWED_VERSIONS = ("v1", "v2")
DEFAULT_VERSION = "v1"

_PATH_VERSION = re.compile(r"^/api/(v\d+)/")


class ApiVersioning(URLPathVersioning):
    default_version = DEFAULT_VERSION
    allowed_versions: tuple[str, ...] = ALLOWED_VERSIONS
    version_param = "version"


def version_of_path(path: str, query_version: str | None = None) -> str:
    """The version a response under /api/ speaks, for responses no versioned view produced."""
    match = _PATH_VERSION.match(path)
    candidate = match.group(1) if match else query_version
    return candidate if candidate in ALLOWED_VERSIONS else DEFAULT_VERSION


class V2OnlyVersioning(ApiVersioning):
    """For endpoints that exist only in v2 (their URLs are routed for v2 alone). Any other version,
    the default one included (DRF would allow it), is "not acceptable" rather than DRF's "not
    found": that is what drf-spectacular reads to leave such an endpoint out of the v1 document and
    out of the unversioned one `manage.py check` builds."""

    allowed_versions: tuple[str, ...] = ("v2",)

    def determine_version(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        version = kwargs.get(self.version_param)
        if version not in self.allowed_versions:
            raise exceptions.NotAcceptable(self.invalid_version_message)
        return version
