"""Logs never contain tokens or secrets: the JSON formatter masks them whatever logger wrote the
line, and requests carrying them through the real server leave no trace of them in the log."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import httpx
import pytest

from project.redaction import MASK, RedactingJsonFormatter
from tests.factories import make_token

SECRETS = {
    "query_token": "QUERYTOKEN0123456789abcdef",
    "query_access_token": "ACCESSTOKEN0123456789abcdef",
    "bad_bearer": "BADBEARER0123456789abcdef",
    "password": "PASSWORD0123456789abcdef",
    "client_secret": "CLIENTSECRET0123456789abcdef",
    "ws_token": "WSTOKEN0123456789abcdef",
}


def format_record(message: str, *args: object, **extra: object) -> str:
    formatter = RedactingJsonFormatter("%(levelname)s %(name)s %(message)s")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return formatter.format(record)


@pytest.mark.parametrize(
    ("message", "args", "extra", "secret"),
    [
        ("GET /api/v1/me/?token=%s&page=2", ("s3cr3t-query",), {}, "s3cr3t-query"),
        ("POST /o/token/ body=%s", ("client_secret=cs-123&password=pw-456",), {}, "cs-123"),
        ("POST /o/token/ body=%s", ("client_secret=cs-123&password=pw-456",), {}, "pw-456"),
        ("headers %s", ({"Authorization": "Bearer tok-789xyz"},), {}, "tok-789xyz"),
        ("request", (), {"headers": {"authorization": "Bearer tok-abcdef"}}, "tok-abcdef"),
        ("request", (), {"password": "hunter22"}, "hunter22"),
        ("request", (), {"body": {"client_secret": "nested-secret"}}, "nested-secret"),
        ("redis at %s", ("redis://:redispass@cache:6379/0",), {}, "redispass"),
        ("pg at %s", ("postgres://app:pgpass@db/app",), {}, "pgpass"),
        ("cookie %s", ("sessionid=abcd1234; csrftoken=efgh5678",), {}, "abcd1234"),
    ],
)
def test_the_formatter_masks_secrets(message, args, extra, secret):
    line = format_record(message, *args, **extra)
    assert secret not in line
    assert MASK in line
    json.loads(line)


def test_tracebacks_are_masked_too():
    formatter = RedactingJsonFormatter("%(levelname)s %(name)s %(message)s")
    try:
        raise ValueError("refused: password=tb-secret-1 and Bearer tb-secret-2")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "boom", (), None)
        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    assert "tb-secret-1" not in line and "tb-secret-2" not in line
    assert "ValueError" in json.loads(line)["exc_info"]


def test_harmless_text_is_left_alone():
    line = format_record("task %s closed with code=%s", "Write docs", 1011)
    assert json.loads(line)["message"] == "task Write docs closed with code=1011"


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """What the server's JSON console handler writes, while the test runs."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler)
        and isinstance(handler.formatter, RedactingJsonFormatter)
    ]
    assert handlers, "the JSON console handler is not installed"
    buffer = io.StringIO()
    previous = [handler.setStream(buffer) for handler in handlers]
    yield buffer
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)


@pytest.mark.e2e
def test_requests_with_tokens_and_secrets_leave_none_in_the_log(asgi_server, server_log, member):
    valid = make_token(member)
    with httpx.Client(base_url=asgi_server.url, timeout=10) as http:
        responses = [
            http.get(
                "/api/v1/me/",
                params={
                    "token": SECRETS["query_token"],
                    "access_token": SECRETS["query_access_token"],
                },
                headers={"Authorization": f"Bearer {SECRETS['bad_bearer']}"},
            ),
            http.post(
                "/o/token/",
                data={
                    "grant_type": "password",
                    "username": member.username,
                    "password": SECRETS["password"],
                    "client_id": "nope",
                    "client_secret": SECRETS["client_secret"],
                },
            ),
            http.get("/graphql", params={"access_token": SECRETS["query_access_token"]}),
            http.get("/api/v1/me/", headers={"Authorization": f"Bearer {valid}"}),
            http.get(f"/ws/projects/1/?token={SECRETS['ws_token']}"),
        ]
    assert [r.status_code for r in responses][3] == 200
    assert all(r.status_code < 500 for r in responses)
    text = server_log.getvalue()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    access = [r for r in records if r.get("logger") == "access"]
    logged_ids = {r["request_id"] for r in access}
    assert {r.headers["X-Request-ID"] for r in responses} <= logged_ids
    for secret in [*SECRETS.values(), valid]:
        assert secret not in text
