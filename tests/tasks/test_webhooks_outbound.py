"""The outbound client's SSRF guard, against real local listeners that must never be reached."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tasks import outbound


def post(url: str, *, allow_private: bool = False) -> outbound.OutboundResponse:
    return outbound.post(
        url,
        content=b"{}",
        headers={"Content-Type": "application/json"},
        connect_timeout=2,
        timeout=2,
        allow_private=allow_private,
    )


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Hostnames resolved as the test says; lookups are counted in `calls`."""
    table: dict[str, list[str]] = {"calls": []}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host in table:
            table["calls"].append(host)
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, port),
                )
                for address in table[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{port}/", "http://localhost:{port}/", "http://[::ffff:127.0.0.1]:{port}/"],
)
def test_loopback_receivers_are_never_contacted(httpserver: HTTPServer, target: str) -> None:
    httpserver.expect_request("/").respond_with_data("reached")
    with pytest.raises(outbound.UnsafeTarget, match="not a public address"):
        post(target.format(port=httpserver.port))
    assert httpserver.log == []


def test_ipv6_loopback_is_refused(httpserver_ipv6: HTTPServer) -> None:
    httpserver_ipv6.expect_request("/").respond_with_data("reached")
    with pytest.raises(outbound.UnsafeTarget):
        post(f"http://[::1]:{httpserver_ipv6.port}/")
    assert httpserver_ipv6.log == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "https://[fc00::1]/",
    ],
)
def test_internal_addresses_are_refused_without_connecting(url: str) -> None:
    with pytest.raises(outbound.UnsafeTarget):
        post(url)


def test_the_resolved_address_is_checked_not_just_the_name(
    fake_dns: dict[str, list[str]], httpserver: HTTPServer
) -> None:
    fake_dns["internal.example.com"] = ["127.0.0.1"]
    with pytest.raises(outbound.UnsafeTarget, match="resolves to an address that is not a public"):
        post(f"http://internal.example.com:{httpserver.port}/")
    assert httpserver.log == []


def test_one_private_address_among_public_ones_is_enough_to_refuse(
    fake_dns: dict[str, list[str]],
) -> None:
    fake_dns["mixed.example.com"] = ["93.184.215.14", "169.254.169.254"]
    with pytest.raises(outbound.UnsafeTarget, match="resolves to an address that is not a public"):
        post("http://mixed.example.com/")


def test_the_connection_goes_to_the_vetted_address_with_the_original_host_header(
    fake_dns: dict[str, list[str]], httpserver: HTTPServer
) -> None:
    """One lookup per request, whose answer is the address connected to: no second lookup for
    a DNS-rebinding attacker to answer differently."""
    fake_dns["hooks.example.com"] = ["127.0.0.1"]
    httpserver.expect_request("/pinned").respond_with_data("pinned")
    response = post(f"http://hooks.example.com:{httpserver.port}/pinned", allow_private=True)
    assert response.status_code == 200
    assert response.body == b"pinned"
    assert fake_dns["calls"] == ["hooks.example.com"]
    [(request, _)] = httpserver.log
    assert request.headers["Host"] == f"hooks.example.com:{httpserver.port}"
    assert request.headers["User-Agent"] == outbound.USER_AGENT


def test_unresolvable_hosts_are_a_retryable_error(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["nowhere.example.com"] = []
    with pytest.raises(outbound.OutboundError) as caught:
        post("http://nowhere.example.com/")
    assert caught.value.retryable
    assert not isinstance(caught.value, outbound.UnsafeTarget)


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "//x"])
def test_only_http_and_https_are_allowed(url: str) -> None:
    with pytest.raises(outbound.UnsafeTarget, match="Only http and https"):
        post(url, allow_private=True)


def test_the_development_setting_allows_a_local_receiver(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data("hello")
    assert post(httpserver.url_for("/"), allow_private=True).body == b"hello"


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.0.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),  # noqa: S104 - an address under test, not a bind
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("255.255.255.255", True),
        ("::1", True),
        ("::", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("ff02::1", True),
        ("::ffff:10.0.0.1", True),
        ("8.8.8.8", False),
        ("93.184.215.14", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_address_policy(address: str, forbidden: bool) -> None:
    assert outbound.is_forbidden_address(ipaddress.ip_address(address)) is forbidden
