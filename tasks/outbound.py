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
- one deadline covers the whole request: connecting, sending and reading the full response. Every
  socket operation gets what is left of it, so a receiver trickling one byte at a time is cut off
  when it runs out (httpx's timeouts are per operation only). At most `max_body` bytes of the
  response are read, undecoded (`Accept-Encoding: identity`);
- the host is judged as the resolver would read it: `2130706433`, `0x7f.1` and `0177.0.0.1` are
  all 127.0.0.1 to `getaddrinfo` (inet_aton), so they are parsed that way before the address
  check; single-label names (`vm`, `localhost`) and internal suffixes (`.internal`, `.local`...)
  name hosts of our own network and are refused without a lookup;
- error messages are fixed sentences: never a resolved address or the resolver's or socket's own
  text, which would tell a webhook owner what internal names resolve to.

`allow_private=True` (the WEBHOOK_ALLOW_PRIVATE_TARGETS setting) lifts the address check, for
development and tests against a local receiver; everything else still applies.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
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


# Names that only mean something inside a network (RFC 6761, RFC 6762, RFC 8375, common use).
INTERNAL_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",
    ".localdomain",
    ".home.arpa",
    ".lan",
    ".intranet",
    ".corp",
    ".private",
)
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


def literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, read as the resolver reads it: IPv6 in brackets, and
    IPv4 in dotted, integer, octal or hex form (inet_aton). None for a name."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(_NUMERIC_LABEL.match(label) for label in host.split(".")):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise UnsafeTarget("The URL's host is not a valid address.") from None
    return None


def check_url(url: str, *, allow_private: bool) -> None:
    """What can be checked without DNS: scheme, host, and a literal IP address. Services use it
    to reject bad targets when a webhook is saved; every request checks the resolved addresses."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise UnsafeTarget("The URL is malformed.") from None
    if parts.scheme not in {"http", "https"}:
        raise UnsafeTarget("Only http and https URLs are allowed.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("Credentials in the URL are not allowed.")
    host = parts.hostname.rstrip(".").lower()
    if not host or any(char.isspace() or char in "%\\" for char in host):
        raise UnsafeTarget("The URL's host is not a valid host name.")
    address = literal_address(host)
    if allow_private:
        return
    if address is not None:
        if is_forbidden_address(address):
            raise UnsafeTarget("The URL names a private or reserved address, not a public address.")
        return
    if "." not in host or host == "localhost" or host.endswith(INTERNAL_SUFFIXES):
        raise UnsafeTarget("The URL names an internal host, not a public address.")


def resolve_vetted(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Every address `host` resolves to, all of them allowed, or UnsafeTarget."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise OutboundError("The host name could not be resolved.") from None
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not allow_private and is_forbidden_address(address):
            raise UnsafeTarget("The host name resolves to an address that is not a public address.")
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise OutboundError("The host name could not be resolved.")
    return addresses


class _Deadline:
    """What is left of one request's time; each socket operation gets at most that."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def budget(self, timeout: float | None, expired: type[Exception]) -> float:
        remaining = self.at - time.monotonic()
        if remaining <= 0:
            raise expired("The receiver did not answer in time.")
        return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = self._deadline.budget(timeout, httpcore.ReadTimeout)
        return self._stream.read(max_bytes, budget)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        budget = self._deadline.budget(timeout, httpcore.WriteTimeout)
        self._stream.write(buffer, budget)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        budget = self._deadline.budget(timeout, httpcore.ConnectTimeout)
        upgraded = self._stream.start_tls(ssl_context, server_hostname, budget)
        return _DeadlineStream(upgraded, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _VettedBackend(httpcore.SyncBackend):
    """Resolves and vets the host at connect time, then connects to the vetted address itself."""

    def __init__(self, *, allow_private: bool, deadline: _Deadline) -> None:
        self.allow_private = allow_private
        self.deadline = deadline

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
            budget = self.deadline.budget(timeout, httpcore.ConnectTimeout)
            try:
                stream = super().connect_tcp(address, port, budget, local_address, socket_options)
                return _DeadlineStream(stream, self.deadline)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error


class _VettedTransport(httpx.HTTPTransport):
    def __init__(self, *, allow_private: bool, deadline: _Deadline) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=1,
            max_keepalive_connections=0,
            network_backend=_VettedBackend(allow_private=allow_private, deadline=deadline),
        )


def post(
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    connect_timeout: float,
    timeout: float,
    allow_private: bool = False,
    max_body: int = DEFAULT_MAX_BODY,
) -> OutboundResponse:
    """POST `content` to `url` once, within `timeout` seconds in all (connecting, at most
    `connect_timeout` of them, sending, and reading the whole response). Returns any HTTP
    response (including 3xx, 4xx and 5xx); raises UnsafeTarget for a refused target,
    OutboundTimeout when the deadline passed, OutboundError when there was no response."""
    check_url(url, allow_private=allow_private)
    deadline = _Deadline(timeout)
    request_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers}
    started = time.monotonic()
    try:
        with (
            httpx.Client(
                transport=_VettedTransport(allow_private=allow_private, deadline=deadline),
                timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)),
                follow_redirects=False,
                trust_env=False,
            ) as client,
            client.stream("POST", url, content=content, headers=request_headers) as response,
        ):
            body, truncated = _read_capped(response, max_body)
    except OutboundError:
        raise
    except httpx.TimeoutException:
        raise OutboundTimeout(
            f"Timed out: the receiver did not answer within {timeout:g} s."
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        raise OutboundError(_failure_message(exc)) from None
    return OutboundResponse(
        status_code=response.status_code,
        headers=response.headers,
        body=body,
        truncated=truncated,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _failure_message(exc: Exception) -> str:
    """A fixed sentence per kind of failure: socket and TLS texts can carry addresses."""
    if isinstance(exc, httpx.ConnectError):
        return "Could not connect to the receiver."
    if isinstance(exc, httpx.RemoteProtocolError):
        return "The receiver did not answer with valid HTTP."
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "The connection to the receiver broke."
    if isinstance(exc, httpx.InvalidURL):
        return "The URL is malformed."
    return f"The request failed ({type(exc).__name__})."


def _read_capped(response: httpx.Response, max_body: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_body:
            return b"".join(chunks)[:max_body], True
    return b"".join(chunks), False
