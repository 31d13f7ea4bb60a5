"""Posting GraphQL to the in-process Django client (the e2e tests use a real client library)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client


def post(
    client: Client,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    return client.post(
        "/graphql",
        json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        headers=all_headers,
    )
