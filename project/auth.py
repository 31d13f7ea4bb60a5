"""The one place a bearer token becomes a user and its scopes, for HTTP (GraphQL and REST) and
WebSockets alike. Tokens are accepted from the `Authorization` header (or a WebSocket's first
message / `connection_init` payload), never from a URL query string."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import parse_qsl

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission

from project.oauth.resource import resource_metadata_url

from . import token_lookup

READ_SCOPE = "read"
WRITE_SCOPE = "write"
# A signed-in browser session is the user themself, not a delegated app: it may do anything
# the user may (CSRF still protects its writes).
SESSION_SCOPES = frozenset({READ_SCOPE, WRITE_SCOPE})
QUERY_TOKEN_PARAM = "access_token"  # noqa: S105 (a parameter name, not a secret)
REALM = "api"


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
    """The token's user and scopes; None when the token is unknown, expired or its user inactive.
    One narrow query, cached per process for `TOKEN_CACHE_SECONDS` (see `project.token_lookup`)."""
    if not raw_token or len(raw_token) > 512:
        return None
    row = token_lookup.lookup(_checksum(raw_token))
    if row is None or row.expires <= timezone.now():
        return None
    user = row.user()
    if not user.is_active:
        return None
    return TokenAuth(user=user, scopes=row.scopes, token_id=row.token_id, expires_at=row.expires)


class Refusal(StrEnum):
    """Why a principal may no longer do what it was granted."""

    CREDENTIALS = "credentials"  # token revoked or expired, user gone or inactive, session ended
    SCOPE = "scope"  # the credentials lack the scope the action needs
    MEMBERSHIP = "membership"  # no longer a member of the project in question


def principal_still_allowed(
    user: AbstractBaseUser | None,
    *,
    via: Literal["token", "session"],
    scopes: frozenset[str],
    token_expires: datetime | None = None,
    session: Mapping[str, Any] | None = None,
    scope: str | None = None,
    member: bool | None = None,
) -> Refusal | None:
    """May this principal still act, as things stand now? None when it may.

    The one rule for every transport: HTTP authentication calls it per request with what it just
    loaded, and the socket re-check (realtime/watch.py) calls it for every open socket with rows it
    loads in one batch. The caller passes current facts: `user` as stored now (None: deleted);
    for a token, its current `token_expires` (None: revoked, i.e. the row is gone); for a browser
    session, its current data (None or empty: logged out, flushed or expired). A session also ends
    when the user's password changes (Django's session auth hash, checked as `get_user` does).
    `scope`: the scope the action needs; `member`: whether the user is still a member of the
    project in question (None: no project).
    """
    if user is None or not user.is_active:
        return Refusal.CREDENTIALS
    if via == "token":
        if token_expires is None or token_expires <= timezone.now():
            return Refusal.CREDENTIALS
    elif not session or not _session_holds(session, user):
        return Refusal.CREDENTIALS
    if scope is not None and scope not in scopes:
        return Refusal.SCOPE
    if member is False:
        return Refusal.MEMBERSHIP
    return None


def _session_holds(session: Mapping[str, Any], user: AbstractBaseUser) -> bool:
    """The session still signs in `user`: same user id, and a password hash that still matches
    (with the current secret or a fallback one, as `django.contrib.auth.get_user` verifies)."""
    if str(session.get(SESSION_KEY)) != str(user.pk):
        return False
    stored = session.get(HASH_SESSION_KEY)
    if not stored:
        return False
    if constant_time_compare(stored, user.get_session_auth_hash()):
        return True
    fallbacks = getattr(user, "get_session_auth_fallback_hash", None)
    return fallbacks is not None and any(
        constant_time_compare(stored, fallback) for fallback in fallbacks()
    )


def _checksum(raw_token: str) -> str:
    import hashlib

    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


def required_scope(method: str) -> str:
    """The scope an HTTP method needs: `read` for safe methods, `write` for the rest."""
    return READ_SCOPE if method.upper() in SAFE_METHODS else WRITE_SCOPE


def query_string_has_token(query_string: bytes | str) -> bool:
    """Whether a raw URL query string carries `access_token` (refused on every transport),
    e.g. an ASGI scope's `query_string`."""
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    return any(
        key == QUERY_TOKEN_PARAM for key, _ in parse_qsl(query_string, keep_blank_values=True)
    )


def bearer_challenge(
    error: str | None = None,
    description: str | None = None,
    scope: str | None = None,
    resource_metadata: str | None = None,
) -> str:
    """A `WWW-Authenticate` value (RFC 6750 section 3). A 401 passes `resource_metadata`, the
    absolute URL of the RFC 9728 document (`resource_metadata_url(request)`), so a client can
    discover which authorization server issues tokens for this API."""
    parts = [f'realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append(f'error_description="{description}"')
    if scope:
        parts.append(f'scope="{scope}"')
    if resource_metadata:
        parts.append(f'resource_metadata="{resource_metadata}"')
    return "Bearer " + ", ".join(parts)


# --- Transport-neutral: one HTTP request -> who, with which scopes ----------------------------

AuthFailure = Literal["missing", "invalid", "query_token", "csrf"]

FAILURE_MESSAGES: dict[str, str] = {
    "missing": "Authentication credentials were not provided.",
    "invalid": "The access token is invalid, expired or revoked.",
    "query_token": "Access tokens are accepted only in the Authorization header.",
    "csrf": "CSRF check failed for the session; send the X-CSRFToken header.",
}
_FAILURE_ERRORS = {"invalid": "invalid_token", "query_token": "invalid_request"}


@dataclass(frozen=True)
class AuthOutcome:
    """Who made a request. `failure` is None on success; `token` is None for a browser session.

    failure: "missing" (no credentials), "invalid" (bad, expired or revoked token),
    "query_token" (`access_token` in the URL: refused even with a good header),
    "csrf" (a session request that changes something without a valid CSRF token)."""

    user: AbstractBaseUser | None = None
    scopes: frozenset[str] = frozenset()
    token: TokenAuth | None = None
    failure: AuthFailure | None = None
    resource_metadata: str | None = None  # RFC 9728 document URL, for the challenge

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def via_session(self) -> bool:
        return self.ok and self.token is None

    def has_scope(self, scope: str) -> bool:
        return self.ok and scope in self.scopes

    @property
    def message(self) -> str:
        return FAILURE_MESSAGES[self.failure] if self.failure else ""

    def challenge(self) -> str:
        """The `WWW-Authenticate` header value for a failed outcome."""
        error = _FAILURE_ERRORS.get(self.failure or "")
        return bearer_challenge(
            error, self.message if error else None, resource_metadata=self.resource_metadata
        )


def authenticate_http_request(request: Any) -> AuthOutcome:
    """Authenticate a Django (or DRF) request: a bearer token from the Authorization header
    first, else the Django session. Session requests with unsafe methods must pass the CSRF
    check here too, so a view exempted from Django's CSRF middleware stays protected."""
    django_request: HttpRequest = getattr(request, "_request", request)
    outcome = _authenticate_http_request(django_request)
    if outcome.ok:
        return outcome
    return replace(outcome, resource_metadata=resource_metadata_url(django_request))


def _authenticate_http_request(django_request: HttpRequest) -> AuthOutcome:
    if query_string_has_token(django_request.META.get("QUERY_STRING", "")):
        return AuthOutcome(failure="query_token")
    raw = bearer_from_header(django_request.META.get("HTTP_AUTHORIZATION"))
    if raw is not None:
        auth = authenticate_token(raw)
        if auth is None or _token_refused(auth):
            return AuthOutcome(failure="invalid")
        return AuthOutcome(user=auth.user, scopes=auth.scopes, token=auth)
    user = getattr(django_request, "user", None)
    if user is None or not user.is_authenticated or _session_refused(django_request, user):
        return AuthOutcome(failure="missing")
    if django_request.method not in SAFE_METHODS and not _csrf_passes(django_request):
        return AuthOutcome(failure="csrf")
    return AuthOutcome(user=user, scopes=SESSION_SCOPES)


def _token_refused(auth: TokenAuth) -> bool:
    refusal = principal_still_allowed(
        auth.user, via="token", scopes=auth.scopes, token_expires=auth.expires_at
    )
    return refusal is not None


def _session_refused(request: HttpRequest, user: AbstractBaseUser) -> bool:
    refusal = principal_still_allowed(
        user, via="session", scopes=SESSION_SCOPES, session=getattr(request, "session", None)
    )
    return refusal is not None


def _csrf_passes(request: HttpRequest) -> bool:
    # What DRF's SessionAuthentication does: run Django's own CSRF check on demand.
    check = CsrfViewMiddleware(_never_called)
    check.process_request(request)
    return check.process_view(request, _never_called, (), {}) is None


def _never_called(request: HttpRequest) -> HttpResponse:
    raise AssertionError("the CSRF check only inspects the request")


# --- Django REST framework -------------------------------------------------------------------


class BearerAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` only. Sets `request.auth` to the `TokenAuth`."""

    def authenticate(self, request: Any) -> tuple[AbstractBaseUser, TokenAuth] | None:
        if query_string_has_token(request.META.get("QUERY_STRING", "")):
            request._bearer_error = "invalid_request", FAILURE_MESSAGES["query_token"]
            raise exceptions.AuthenticationFailed(FAILURE_MESSAGES["query_token"], "query_token")
        raw = bearer_from_header(request.META.get("HTTP_AUTHORIZATION"))
        if raw is None:
            return None  # no bearer token: let session authentication try
        auth = authenticate_token(raw)
        if auth is None or _token_refused(auth):
            request._bearer_error = "invalid_token", FAILURE_MESSAGES["invalid"]
            raise exceptions.AuthenticationFailed(FAILURE_MESSAGES["invalid"], "invalid_token")
        return auth.user, auth

    def authenticate_header(self, request: Any) -> str:
        # DRF puts this on every 401, so it carries the reason the token was refused.
        error, description = getattr(request, "_bearer_error", (None, None))
        return bearer_challenge(
            error, description, resource_metadata=resource_metadata_url(request)
        )


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"

    def __init__(self, scope: str) -> None:
        super().__init__(f"This request needs the `{scope}` scope.", "insufficient_scope")
        # DRF's exception handler copies `auth_header` into `WWW-Authenticate`.
        self.auth_header = bearer_challenge(
            "insufficient_scope", f"The access token lacks the {scope} scope.", scope
        )


class TokenHasScope(BasePermission):
    """Signed in, and a bearer token carries `read` (safe methods) or `write` (the rest).
    A browser session (request.auth None) is the user themself and passes."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.auth is None:
            return True
        if not isinstance(request.auth, TokenAuth):
            return False
        scope = required_scope(request.method)
        if not request.auth.has_scope(scope):
            raise InsufficientScope(scope)
        return True
