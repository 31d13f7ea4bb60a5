"""Cross-site request forgery protection for `/graphql` requests made with a session cookie.

A session POST needs a proof that a page of another site could not have sent it: a valid
`X-CSRFToken` (Django's check, in `project.auth`), or, as Apollo Server accepts, a
preflight-forcing header (`Apollo-Require-Preflight`, `X-Apollo-Operation-Name`). A browser
sends such a header cross-origin only after a CORS preflight, which this server grants only
to its CORS origins; a foreign browser `Origin` is refused outright. This matters most for
multipart uploads, which a plain HTML form can send. Bearer-token requests need neither."""

from __future__ import annotations

from django.http import HttpRequest

from project.auth import SESSION_SCOPES, AuthOutcome
from project.origin import origin_allowed

PREFLIGHT_HEADERS = ("HTTP_APOLLO_REQUIRE_PREFLIGHT", "HTTP_X_APOLLO_OPERATION_NAME")
MESSAGE = (
    "This request uses a session cookie, so it needs protection against cross-site request "
    "forgery: send an `Apollo-Require-Preflight: true` header or a valid `X-CSRFToken` header "
    "(or authenticate with a bearer token instead)."
)


def preflighted(request: HttpRequest) -> bool:
    if not any(request.META.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        return False
    return origin_allowed(request.META.get("HTTP_ORIGIN"))


def with_preflight(request: HttpRequest, outcome: AuthOutcome) -> AuthOutcome:
    """The outcome, with a session request that failed only Django's CSRF token check accepted
    when it carries a preflight-forcing header instead."""
    if outcome.failure != "csrf" or not preflighted(request):
        return outcome
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return outcome
    return AuthOutcome(user=user, scopes=SESSION_SCOPES)
