"""Who may scrape `/metrics` (OWASP API8, security misconfiguration).

The metrics name every route and count every status: reconnaissance for free if anyone can read
them. A scraper proves itself with `Authorization: Bearer <METRICS_TOKEN>` or by connecting from
METRICS_ALLOWED_IPS (addresses or networks, matched against REMOTE_ADDR, which uvicorn sets from
X-Forwarded-For only for trusted proxies). With neither configured, /metrics is open in DEBUG
(development) and refused with 403 in production, so forgetting the setting fails closed.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import cache

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _token_matches(request: HttpRequest, token: str) -> bool:
    scheme, _, presented = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.encode()
    )


def _address_allowed(request: HttpRequest, entries: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks(entries))


def _refused(status: int, detail: str) -> HttpResponse:
    body: dict[str, object] = {
        "type": "urn:taskhub:problem:metrics_forbidden",
        "title": "Not authenticated" if status == 401 else "Forbidden",
        "status": status,
        "detail": detail,
        "code": "not_authenticated" if status == 401 else "forbidden",
        "errors": {},
    }
    response = HttpResponse(
        orjson.dumps(body), status=status, content_type="application/problem+json"
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    """None when the request may read the metrics, else the response refusing it."""
    token: str = settings.METRICS_TOKEN
    allowed_ips = tuple(settings.METRICS_ALLOWED_IPS)
    if not token and not allowed_ips:
        if settings.DEBUG:
            return None
        return _refused(403, "Set METRICS_TOKEN or METRICS_ALLOWED_IPS to serve /metrics.")
    if token and _token_matches(request, token):
        return None
    if allowed_ips and _address_allowed(request, allowed_ips):
        return None
    if token:
        return _refused(401, "Send the metrics token as a bearer token.")
    return _refused(403, "This address may not read the metrics.")
