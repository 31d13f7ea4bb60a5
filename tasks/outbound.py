"""The one outbound HTTP client for every integration (webhooks today).

Requests to third-party URLs are an SSRF risk: a URL that names or resolves to an internal address
(loopback, private networks, cloud metadata at 169.254.169.254...) would let a client probe the
inside of our network. So, for every request:

- only `http` and `https` URLs are accepted;
- the host is resolved once, and the request is refused if ANY of its addresses is not a public
  unicast address;
- the connection goes to that vetted address (no second lookup a DNS-rebinding attacker could
  answer differently), while the Host header, TLS SNI and certificate check keep the hostname;
- redirects are never followed (a 3xx is returned as it is), environment proxies are ignored,
  and there is no connection reuse between calls;
- connect and read timeouts are always set, and at most `max_body` bytes of the response are read,
  undecoded (`Accept-Encoding: identity`), so a hostile receiver cannot make us buffer much.

`allow_private=True` (the WEBHOOK_ALLOW_PRIVATE_TARGETS setting) lifts the address check, for
development and tests against a local receiver; everything else still applies.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

DEFAULT_MAX_BODY = 4096
USER_AGENT = "TaskHub-Webhooks/1.0"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundError(Exception):
    """A request that produced no HTTP response. `retryable` tells a caller whether trying again
    later may help (network trouble) or not (a refused or malformed target)."""

    retryable = True


class UnsafeTarget(OutboundError):
    """The URL is not http(s), or it names or resolves to an address we must not contact."""

    retryable = False


class OutboundTimeout(OutboundError):
    pass


@dataclass(frozen=True)
class OutboundResponse:
    status_code: int
    headers: httpx.Headers
    body: bytes
    truncated: bool
    duration_ms: int


def is_forbidden_address(address: IPAddress) -> bool:
    """True for anything but a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_forbidden_address(address.ipv4_mapped)
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_url(url: str, *, allow_private: bool) -> None:
    """What can be checked without DNS: scheme, host, and a literal IP address. Services use it
    to reject bad targets when a webhook is saved; every request checks the resolved addresses."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise UnsafeTarget(f"Malformed URL: {exc}.") from None
    if parts.scheme not in {"http", "https"}:
        raise UnsafeTarget("Only http and https URLs are allowed.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("Credentials in the URL are not allowed.")
    address = literal_address(parts.hostname)
    if address is not None and not allow_private and is_forbidden_address(address):
        raise UnsafeTarget(f"The address {address} is not a public address.")


def resolve_vetted(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Every address `host` resolves to, all of them allowed, or UnsafeTarget."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundError(f"Could not resolve {host}: {exc}.") from None
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not allow_private and is_forbidden_address(address):
            raise UnsafeTarget(f"{host} resolves to {address}, which is not a public address.")
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise OutboundError(f"{host} has no address.")
    return addresses


class _VettedBackend(httpcore.SyncBackend):
    """Resolves and vets the host at connect time, then connects to the vetted address itself."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve_vetted(host, port, allow_private=self.allow_private)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error


class _VettedTransport(httpx.HTTPTransport):
    def __init__(self, *, allow_private: bool) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=1,
            max_keepalive_connections=0,
            network_backend=_VettedBackend(allow_private=allow_private),
        )


def post(
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    connect_timeout: float,
    read_timeout: float,
    allow_private: bool = False,
    max_body: int = DEFAULT_MAX_BODY,
) -> OutboundResponse:
    """POST `content` to `url` once. Returns any HTTP response (including 3xx, 4xx and 5xx);
    raises UnsafeTarget for a refused target and OutboundError when there was no response."""
    check_url(url, allow_private=allow_private)
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    request_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers}
    started = time.monotonic()
    try:
        with (
            httpx.Client(
                transport=_VettedTransport(allow_private=allow_private),
                timeout=timeout,
                follow_redirects=False,
                trust_env=False,
            ) as client,
            client.stream("POST", url, content=content, headers=request_headers) as response,
        ):
            body, truncated = _read_capped(response, max_body)
    except OutboundError:
        raise
    except httpx.TimeoutException as exc:
        raise OutboundTimeout(f"Timed out: {type(exc).__name__}.") from None
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        raise OutboundError(f"{type(exc).__name__}: {exc}") from None
    return OutboundResponse(
        status_code=response.status_code,
        headers=response.headers,
        body=body,
        truncated=truncated,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _read_capped(response: httpx.Response, max_body: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_body:
            return b"".join(chunks)[:max_body], True
    return b"".join(chunks), False
