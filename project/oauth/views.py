"""The two authorization-server views DOT's defaults don't fit: discovery metadata that says
exactly what is enabled, and an introspection endpoint only confidential clients may call."""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.views import OAuthServerMetadataView
from oauthlib.common import Request as OauthlibRequest

from project.oauth.server import CODE_CHALLENGE_METHODS, GRANT_TYPES, RESPONSE_TYPES

CLIENT_SECRET_METHODS = ["client_secret_basic", "client_secret_post"]
# Public clients (PKCE) authenticate at the token and revocation endpoints with their id only.
PUBLIC_CLIENT_METHODS = [*CLIENT_SECRET_METHODS, "none"]


def refuse_nul_bytes(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """400 for a request with a NUL byte in any parameter: PostgreSQL cannot store or compare
    one, and no client id, code, challenge or token contains one."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        for params in (request.GET, request.POST):
            for key, values in params.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    return JsonResponse(
                        {"error": "invalid_request", "error_description": "NUL byte in input."},
                        status=400,
                    )
        return view(request, *args, **kwargs)

    return wrapped


class MetadataView(OAuthServerMetadataView):
    """RFC 8414 metadata. DOT advertises one auth-method list for every endpoint; here the
    introspection endpoint takes client secrets only."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        data = json.loads(super().get(request, *args, **kwargs).content)
        data.update(
            grant_types_supported=list(GRANT_TYPES),
            response_types_supported=list(RESPONSE_TYPES),
            code_challenge_methods_supported=list(CODE_CHALLENGE_METHODS),
            token_endpoint_auth_methods_supported=PUBLIC_CLIENT_METHODS,
            revocation_endpoint_auth_methods_supported=PUBLIC_CLIENT_METHODS,
            introspection_endpoint_auth_methods_supported=CLIENT_SECRET_METHODS,
        )
        data.pop("client_id_metadata_document_supported", None)
        response = JsonResponse(data)
        response["Access-Control-Allow-Origin"] = "*"
        return response


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class IntrospectView(View):
    """RFC 7662. The caller authenticates as a confidential client (HTTP Basic or client_id and
    client_secret in the form body), e.g. a resource server; the token comes in the POST body
    only, never in the URL."""

    http_method_names = ["post", "options"]

    def post(self, request: HttpRequest) -> HttpResponse:
        caller = _authenticated_confidential_client(request)
        if caller is None:
            response = JsonResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed."},
                status=401,
            )
            response["WWW-Authenticate"] = 'Basic realm="oauth"'
            return response
        token = request.POST.get("token")
        if not token:
            return JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "The token parameter is missing.",
                },
                status=400,
            )
        return JsonResponse(introspect(token, caller=caller))


def may_introspect(caller: Any, token: Any) -> bool:
    """A client learns about the tokens issued to it; the resource servers named in
    OAUTH_INTROSPECTION_CLIENTS about every token. Anything else is reported inactive (RFC 7662
    section 4 allows that answer for a token the caller may not know about)."""
    return token.application_id == caller.pk or caller.client_id in set(
        settings.OAUTH_INTROSPECTION_CLIENTS
    )


def introspect(raw_token: str, *, caller: Any) -> dict[str, Any]:
    AccessToken = get_access_token_model()
    token = (
        AccessToken.objects.select_related("user", "application__user")
        .filter(token_checksum=hashlib.sha256(raw_token.encode("utf-8")).hexdigest())
        .first()
    )
    if token is None or token.is_expired() or not may_introspect(caller, token):
        return {"active": False}
    # A client-credentials token acts as the application's owning user.
    user = token.user or (token.application.user if token.application else None)
    if user is None or not user.is_active:
        return {"active": False}
    data: dict[str, Any] = {
        "active": True,
        "scope": token.scope,
        "token_type": "Bearer",
        "exp": calendar.timegm(token.expires.utctimetuple()),
        "iat": calendar.timegm(token.created.utctimetuple()),
        "username": user.get_username(),
        "sub": str(user.pk),
    }
    if token.application is not None:
        data["client_id"] = token.application.client_id
    return data


def _authenticated_confidential_client(request: HttpRequest) -> Any:
    """The confidential client the request authenticates as, or None."""
    core = get_oauthlib_core()
    uri, method, body, headers = core._extract_params(request)
    oauth_request = OauthlibRequest(uri, method, body, headers)
    if not core.server.request_validator.authenticate_client(oauth_request):
        return None
    client = oauth_request.client
    if client is None or client.client_type != get_application_model().CLIENT_CONFIDENTIAL:
        return None
    return client
