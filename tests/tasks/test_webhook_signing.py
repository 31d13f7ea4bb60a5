"""tasks.webhook_signing signs through the `standardwebhooks` library, and the receiver the README's
webhooks section shows (the same library) accepts what the server sends and refuses tampering."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import WebhookVerificationError

from tasks.webhook_signing import generate_secret, signed_headers

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver(secret: str) -> Any:
    section = README.read_text().split("## Outgoing webhooks", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    lines = [line for line in code.splitlines() if line.strip()]
    assert len(lines) <= 5, code
    namespace: dict[str, Any] = {"WEBHOOK_SECRET": secret}
    exec("\n".join(line.removeprefix("  ") for line in code.splitlines()), namespace)  # noqa: S102
    return namespace["receive"]


def test_the_readme_receiver_verifies_what_the_server_sends() -> None:
    secret = generate_secret()
    body = b'{"id":"42","type":"task.created","data":{"title":"\\u00e9t\\u00e9"}}'
    headers = signed_headers(secret, message_id="msg_42", body=body)
    receive = readme_receiver(secret)
    assert receive(body, headers) == {
        "id": "42",
        "type": "task.created",
        "data": {"title": "été"},
    }


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers: (body + b" ", headers),
        lambda body, headers: (body, {**headers, "webhook-id": "msg_other"}),
        lambda body, headers: (body, {**headers, "webhook-timestamp": "1700000000"}),
    ],
)
def test_the_readme_receiver_refuses_a_changed_body_id_or_stale_timestamp(tamper: Any) -> None:
    secret = generate_secret()
    body = b'{"id":"42"}'
    receive = readme_receiver(secret)
    with pytest.raises(WebhookVerificationError):
        receive(*tamper(body, signed_headers(secret, message_id="msg_42", body=body)))


def test_another_secret_does_not_verify() -> None:
    body = b'{"id":"42"}'
    headers = signed_headers(generate_secret(), message_id="msg_42", body=body)
    with pytest.raises(WebhookVerificationError):
        readme_receiver(generate_secret())(body, headers)
