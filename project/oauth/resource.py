"""RFC 9728 protected-resource metadata: DOT's own view, at the origin's
`/.well-known/oauth-protected-resource`, naming this origin's authorization server.

DOT derives `authorization_servers` by reversing `oauth2_provider:oauth-server-metadata`; TaskHub
mounts its RFC 8414 document at the root under its own name (project/oauth/urls.py), so that
lookup finds nothing and DOT would omit the field. `get_authorization_servers` (the documented
override point) names the same issuer the RFC 8414 document publishes instead."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_control
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import OAuthProtectedResourceMetadataView

ROUTE_NAME = "oauth-protected-resource-metadata"


def resource_metadata_url(request: HttpRequest) -> str:
    """The absolute URL a `WWW-Authenticate: Bearer ... resource_metadata="..."` names."""
    return request.build_absolute_uri(reverse(ROUTE_NAME))


@method_decorator(cache_control(public=True, max_age=3600), name="dispatch")
class ResourceMetadataView(OAuthProtectedResourceMetadataView):
    http_method_names = ["get", "head", "options"]

    def get_authorization_servers(self, request: HttpRequest) -> list[Any]:
        # The issuer the RFC 8414 document publishes: OAUTH_ISSUER, else this origin.
        issuer = oauth2_settings.OIDC_ISS_ENDPOINT or request.build_absolute_uri("/").rstrip("/")
        return [issuer]
