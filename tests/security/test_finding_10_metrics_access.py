"""Finding 10: /metrics is protectable (METRICS_TOKEN bearer, METRICS_ALLOWED_IPS), and in
production mode without either it is refused instead of served to anyone."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _metrics(server, **headers: str) -> httpx.Response:
    return httpx.get(f"{server.url}/metrics", headers=headers, timeout=10)


def test_finding_10_metrics_access_refused_in_production_without_settings(asgi_server, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    refused = _metrics(asgi_server)
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "http_requests_total" not in refused.text


def test_finding_10_metrics_access_with_the_bearer_token(asgi_server, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = "scrape-me-0123456789"
    settings.METRICS_ALLOWED_IPS = []
    assert _metrics(asgi_server).status_code == 401
    assert _metrics(asgi_server, Authorization="Bearer wrong").status_code == 401
    scraped = _metrics(asgi_server, Authorization="Bearer scrape-me-0123456789")
    assert scraped.status_code == 200
    assert "# TYPE http_requests_total counter" in scraped.text


def test_finding_10_metrics_access_from_allowed_addresses(asgi_server, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert _metrics(asgi_server).status_code == 403  # loopback is not in the list
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "127.0.0.0/8"]
    assert _metrics(asgi_server).status_code == 200
