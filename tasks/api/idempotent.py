"""`Idempotency-Key` on REST POSTs, glued to the shared `tasks.idempotency` records.

The key is scoped per user; the fingerprint is method + path (with query) + body, so the same key
with a different request is a 422, a duplicate while the first still runs a 409, and a retry after
it finished replays the first response with `Idempotent-Replayed: true`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from tasks import idempotency

from . import uploads
from .exceptions import ProblemError

HEADER = "Idempotency-Key"
SCOPE = "rest"
REPLAYED_HEADER = "Idempotent-Replayed"
REPLAYED_RESPONSE_HEADERS = ("Location", "ETag")


@dataclass(frozen=True)
class Claim:
    user_key: str
    key: str
    fingerprint: str


class Replay(Exception):
    """Carries the stored response of a finished request back out of `initial()`."""

    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__("idempotent replay")
        self.record = record


def begin(request: Request) -> Claim | None:
    """Claims the request's key, or raises Replay / a 409 / a 422 problem. None without a key."""
    if request.method != "POST":
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not idempotency.valid_key(key):
        raise ProblemError(
            400, "invalid_idempotency_key", "Idempotency-Key must be 1-255 printable characters."
        )
    user_key = f"user:{request.user.pk}" if request.user.is_authenticated else "anonymous"
    # A multipart body is fingerprinted from its parsed parts, never read whole (uploads.py).
    body = (
        uploads.multipart_fingerprint(request)
        if uploads.is_multipart(request)
        else request._request.body
    )
    fingerprint = idempotency.fingerprint(request.method, request.get_full_path(), body)
    outcome = idempotency.begin(
        scope=SCOPE, user_key=user_key, key=key, request_fingerprint=fingerprint
    )
    if outcome.outcome == "started":
        return Claim(user_key, key, fingerprint)
    if outcome.outcome == "replay":
        raise Replay(outcome.response or {})
    if outcome.outcome == "mismatch":
        raise ProblemError(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request.",
        )
    raise ProblemError(
        409, "idempotency_key_in_flight", "A request with this Idempotency-Key is still running."
    )


def complete(claim: Claim, response: Response) -> None:
    """Stores a finished response for replay; a server failure releases the key instead."""
    if response.status_code >= 500:
        abandon(claim)
        return
    data = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
    # What a view marks as never to be kept outside the database (a webhook's signing secret).
    for name in getattr(response, "idempotency_redact", ()):
        if isinstance(data, dict) and name in data:
            data[name] = None
    headers = {
        name: response[name] for name in REPLAYED_RESPONSE_HEADERS if response.has_header(name)
    }
    if response.content_type:
        headers["Content-Type"] = response.content_type
    idempotency.complete(
        scope=SCOPE,
        user_key=claim.user_key,
        key=claim.key,
        request_fingerprint=claim.fingerprint,
        response={"status": response.status_code, "data": data, "headers": headers},
    )


def abandon(claim: Claim) -> None:
    idempotency.abandon(scope=SCOPE, user_key=claim.user_key, key=claim.key)


def replay_response(record: dict[str, Any]) -> Response:
    headers = dict(record.get("headers") or {})
    content_type = headers.pop("Content-Type", None)
    response = Response(
        record.get("data"),
        status=record.get("status", 200),
        headers=headers,
        content_type=content_type,
    )
    response[REPLAYED_HEADER] = "true"
    return response
