"""API.md, Operations: probes, Prometheus metrics, `X-Request-ID` on every response and logs that
are one JSON object a line, checked on the real server over loopback."""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.live import ProcessServer

pytestmark = pytest.mark.e2e


def _gauge(metrics: str, name: str, kind: str) -> float:
    match = re.search(rf'^{name}{{kind="{kind}"}} ([0-9.e+-]+)$', metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_probes_and_metrics_families(asgi_server: Any) -> None:
    with httpx.Client(base_url=asgi_server.url) as http:
        assert http.get("/healthz").status_code == 200
        ready = http.get("/readyz")
        assert ready.status_code == 200, ready.text
        http.get("/api/v1/me/")  # a 401, so a route with a non-200 status is counted
        metrics = http.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert re.search(r'http_requests_total\{[^}]*route="/api/[^"]*me/"[^}]*status="401"', text)
    assert "# TYPE http_request_duration_seconds histogram" in text
    assert "# TYPE websocket_connections gauge" in text
    assert "# TYPE events_published_total counter" in text


def test_open_websockets_are_counted(asgi_server: Any, owner: Any, project: Any) -> None:
    """`/metrics` reports the WebSocket connections open right now, per kind of socket."""
    metrics_url = f"{asgi_server.url}/metrics"
    before = _gauge(httpx.get(metrics_url).text, "websocket_connections", "json")
    from tests.factories import make_token

    token = make_token(owner, "read")
    socket = connect(
        f"{asgi_server.ws_url}/ws/projects/{project.pk}/",
        additional_headers={"Authorization": f"Bearer {token}"},
    )
    try:
        socket.send(json.dumps({"type": "ping"}))
        while json.loads(socket.recv(timeout=10))["type"] != "pong":
            pass  # "ready" (and any event) come first
        during = _gauge(httpx.get(metrics_url).text, "websocket_connections", "json")
        assert during == before + 1
    finally:
        socket.close()
    deadline_text = ""
    for _ in range(100):  # the server notices the close a moment later
        deadline_text = httpx.get(metrics_url).text
        if _gauge(deadline_text, "websocket_connections", "json") == before:
            break
        time.sleep(0.05)
    assert _gauge(deadline_text, "websocket_connections", "json") == before


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/api/v1/me/", 401),
        ("GET", "/api/v2/no-such-route/", 404),
        ("GET", "/no-such-page", 404),
        ("GET", "/o/token/", 405),
        ("POST", "/o/token/", 400),
        ("GET", "/.well-known/oauth-authorization-server", 200),
        ("GET", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css", 200),
    ],
)
def test_every_response_carries_a_request_id(
    asgi_server: Any, method: str, path: str, status: int
) -> None:
    response = httpx.request(method, f"{asgi_server.url}{path}")
    assert response.status_code == status
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    echoed = httpx.request(method, f"{asgi_server.url}{path}", headers={"X-Request-ID": "abc-1"})
    assert echoed.headers["X-Request-ID"] == "abc-1"


def test_a_413_at_the_asgi_edge_is_a_full_api_problem(asgi_server: Any) -> None:
    """Refused from the declared Content-Length before Django reads a byte, yet shaped like
    every other REST error (a raw socket: HTTP clients won't declare a length they don't send)."""
    with socket.create_connection(("127.0.0.1", asgi_server.port), timeout=10) as conn:
        conn.sendall(
            b"POST /api/v2/tasks/1/attachments/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 1000000000\r\nX-Request-ID: edge-1\r\n\r\n"
        )
        raw = b""
        while b"\r\n\r\n" not in raw or not raw.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            raw += chunk
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    assert status_line.split()[1] == "413"
    assert headers["content-type"] == "application/problem+json"
    assert headers["api-version"] == "v2"
    assert headers["x-request-id"] == "edge-1"
    body = json.loads(payload)
    assert set(body) >= {"type", "title", "status", "detail", "code", "errors"}
    assert body["status"] == 413 and body["code"] == "too_large"
    assert body["type"].endswith("too_large")
    assert all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in body["errors"].values()
    )


def test_a_debug_server_logs_only_json_lines(tmp_path: Path) -> None:
    """`make run` serves with DEBUG on: Django's own "Not Found: ..." lines must be JSON too."""
    log = tmp_path / "server.log"
    server = ProcessServer(
        {
            "DEBUG": "1",
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
            "LOG_LEVEL": "INFO",
        },
        log_path=log,
    )
    server.start()
    try:
        with httpx.Client(base_url=server.url) as http:
            assert http.get("/no-such-page").status_code == 404
            assert http.get("/api/v1/me/").status_code == 401
            assert http.get("/o/token/").status_code == 405
    finally:
        server.stop()
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert any('"not_found"' in line or "no-such-page" in line for line in lines), lines
    for line in lines:
        assert isinstance(json.loads(line), dict), line
