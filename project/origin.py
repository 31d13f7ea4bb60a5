"""The Origin rule of API.md, shared by every transport (HTTP `/graphql` and WebSockets).

Channels' `AllowedHostsOriginValidator` does not implement it: it refuses clients that send no
Origin, which are not browsers and so cannot be driven by cross-site request forgery."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host


def origin_allowed(origin: str | None) -> bool:
    """A browser's Origin must be an allowed host or a CORS origin. No Origin at all is a
    non-browser client, which cross-site request forgery cannot drive: allowed."""
    if origin is None:
        return True
    origin = origin.strip()
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return False
    domain, _port = split_domain_port(parts.netloc)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)
