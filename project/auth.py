"""The one place a bearer token becomes a user and its scopes, for HTTP (GraphQL and REST) and
WebSockets alike. Tokens are accepted from the `Authorization` header (or a WebSocket's first
message / `connection_init` payload), never from a URL query string."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

READ_SCOPE = "read"
WRITE_SCOPE = "write"


@dataclass(frozen=True)
class TokenAuth:
    user: AbstractBaseUser
    scopes: frozenset[str]
    token_id: int
    expires_at: Any  # aware datetime

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def bearer_from_header(value: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None when there is no such header.
    An empty or malformed bearer value gives "" so callers can tell "bad" from "absent"."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def authenticate_token(raw_token: str | None) -> TokenAuth | None:
    """The token's user and scopes; None when the token is unknown, expired or its user inactive."""
    if not raw_token or len(raw_token) > 512:
        return None
    AccessToken = get_access_token_model()
    token = (
        AccessToken.objects.select_related("user", "application__user")
        .filter(token_checksum=_checksum(raw_token))
        .first()
    )
    if token is None or token.expires <= timezone.now():
        return None
    user = token.user
    if user is None and token.application is not None:
        # Client credentials: the token acts as the application's owning user.
        user = token.application.user
    if user is None or not user.is_active:
        return None
    return TokenAuth(
        user=user,
        scopes=frozenset(token.scope.split()),
        token_id=token.pk,
        expires_at=token.expires,
    )


def token_still_valid(token_id: int) -> bool:
    """For long-lived connections: is the token they authenticated with still usable?"""
    AccessToken = get_access_token_model()
    return AccessToken.objects.filter(pk=token_id, expires__gt=timezone.now()).exists()


def _checksum(raw_token: str) -> str:
    import hashlib

    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()
