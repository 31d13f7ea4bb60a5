"""Webhook secrets and signatures, the Standard Webhooks way (https://www.standardwebhooks.com/),
signed by the reference `standardwebhooks` library that receivers verify with (README, Webhooks).

A secret is `whsec_` + base64 of 32 random bytes; the HMAC key is those decoded bytes. Secrets are
encrypted at rest with a Fernet key derived from SECRET_KEY (and, for decryption only, from each of
SECRET_KEY_FALLBACKS, so SECRET_KEY can be rotated the Django way). Losing every key that encrypted
a secret makes it unreadable: the webhook then has to be recreated.
"""

from __future__ import annotations

import base64
import secrets
import time
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
SECRET_BYTES = 32


class SecretUnavailable(Exception):
    """The stored secret cannot be decrypted with the current SECRET_KEY or its fallbacks."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _fernet(secret_key: str) -> Fernet:
    key = salted_hmac(
        "tasks.webhook_signing", "secret-encryption", secret=secret_key, algorithm="sha256"
    ).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    fallbacks = list(getattr(settings, "SECRET_KEY_FALLBACKS", []))
    return MultiFernet([_fernet(key) for key in [settings.SECRET_KEY, *fallbacks]])


def encrypt_secret(secret: str) -> str:
    return _keys().encrypt(secret.encode("ascii")).decode("ascii")


def decrypt_secret(token: str) -> str:
    try:
        return _keys().decrypt(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnavailable("The webhook secret cannot be decrypted.") from None


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value (`v1,<base64 HMAC-SHA256>`). Bodies are UTF-8 JSON, and the
    library signs text, which it encodes back to the same bytes."""
    sent_at = datetime.fromtimestamp(timestamp, tz=UTC)
    return Webhook(secret).sign(message_id, sent_at, body.decode("utf-8"))


def signed_headers(secret: str, *, message_id: str, body: bytes) -> dict[str, str]:
    """The headers of one attempt: a fresh timestamp each time, so receivers may reject replays."""
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id=message_id, timestamp=timestamp, body=body),
    }
