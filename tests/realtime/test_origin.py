"""The Origin rule of API.md, which Channels' AllowedHostsOriginValidator does not implement
(it refuses clients that send no Origin)."""

import pytest

from realtime.auth import origin_allowed


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.ALLOWED_HOSTS = ["api.example.com", ".tenant.example", "[::1]"]
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "https://api.example.com",
        "http://api.example.com:8443",
        "https://a.tenant.example",
        "http://[::1]:8000",
        "https://app.example",
    ],
)
def test_allowed(origin):
    assert origin_allowed(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "",
        "https://app.example:444",
        "file://",
        "https://api.example.com.evil",
    ],
)
def test_refused(origin):
    assert not origin_allowed(origin)
