"""Registering OAuth clients (applications). DOT hashes the client secret when the row is saved,
so the plaintext is captured here, before the save, and shown once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.models import get_application_model

AUTHORIZATION_CODE = "authorization-code"
CLIENT_CREDENTIALS = "client-credentials"
GRANTS = (AUTHORIZATION_CODE, CLIENT_CREDENTIALS)

DEMO_CLIENT_NAME = "TaskHub local frontend (PKCE)"
VITE_DEV_REDIRECT_URI = "http://localhost:5173/callback"
DEMO_REDIRECT_URIS = ("http://127.0.0.1:8000/app/callback", VITE_DEV_REDIRECT_URI)


class ClientError(Exception):
    pass


@dataclass(frozen=True)
class NewClient:
    application: Any
    client_id: str
    client_secret: str | None  # None for a public client: it has no usable secret


def create_client(
    *,
    name: str,
    user: Any,
    redirect_uris: Sequence[str] = (),
    public: bool = False,
    grant: str = AUTHORIZATION_CODE,
) -> NewClient:
    Application = get_application_model()
    if grant not in GRANTS:
        raise ClientError(f"grant must be one of: {', '.join(GRANTS)}")
    if public and grant == CLIENT_CREDENTIALS:
        raise ClientError("a public client cannot use client credentials: it has no secret")
    if grant == CLIENT_CREDENTIALS and redirect_uris:
        raise ClientError("redirect URIs are only for authorization-code clients")
    if grant == AUTHORIZATION_CODE and not redirect_uris:
        raise ClientError("an authorization-code client needs at least one --redirect-uri")
    application = Application(
        name=name,
        user=user,
        client_type=Application.CLIENT_PUBLIC if public else Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=grant,
        redirect_uris=" ".join(redirect_uris),
    )
    # DOT gives every application a random secret; a public client's is never shown, so nobody
    # can authenticate with it (PKCE is what protects a public client's code exchange).
    plaintext_secret = None if public else application.client_secret
    try:
        application.full_clean()
    except ValidationError as exc:
        raise ClientError("; ".join(_messages(exc))) from exc
    with transaction.atomic():
        application.save()
    return NewClient(application, application.client_id, plaintext_secret)


def ensure_demo_client(user: Any, redirect_uris: Sequence[str] = DEMO_REDIRECT_URIS) -> str:
    """The public PKCE client local frontends use; created once, found again by name. URIs it
    lacks are added (never removed), so serving on another host or port keeps sign-in working."""
    Application = get_application_model()
    existing = Application.objects.filter(
        name=DEMO_CLIENT_NAME, client_type=Application.CLIENT_PUBLIC
    ).first()
    if existing is None:
        return create_client(
            name=DEMO_CLIENT_NAME, user=user, redirect_uris=redirect_uris, public=True
        ).client_id
    registered = existing.redirect_uris.split()
    missing = [uri for uri in redirect_uris if uri not in registered]
    if missing:
        existing.redirect_uris = " ".join([*registered, *missing])
        try:
            existing.full_clean()
        except ValidationError as exc:
            raise ClientError("; ".join(_messages(exc))) from exc
        existing.save(update_fields=["redirect_uris"])
    return str(existing.client_id)


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{field}: {message}" for field, errs in exc.message_dict.items() for message in errs
        ]
    return list(exc.messages)
