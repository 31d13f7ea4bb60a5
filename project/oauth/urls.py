"""Authorization-server routes: `/o/` (DOT's namespace), RFC 8414 metadata at the origin's
well-known path, and the login/logout pages the authorization flow sends people through."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import views as dot_views

from project.oauth.client_throttle import throttle_client_failures
from project.oauth.resource import ROUTE_NAME, ResourceMetadataView
from project.oauth.views import IntrospectView, MetadataView, refuse_nul_bytes

# Only the endpoints API.md names; DOT's application-management, device and OIDC views stay off.
oauth_patterns = (
    [
        path(
            "authorize/", refuse_nul_bytes(dot_views.AuthorizationView.as_view()), name="authorize"
        ),
        path(
            "token/",
            refuse_nul_bytes(throttle_client_failures(dot_views.TokenView.as_view())),
            name="token",
        ),
        path(
            "revoke_token/",
            refuse_nul_bytes(throttle_client_failures(dot_views.RevokeTokenView.as_view())),
            name="revoke-token",
        ),
        path(
            "introspect/",
            refuse_nul_bytes(throttle_client_failures(IntrospectView.as_view())),
            name="introspect",
        ),
    ],
    "oauth2_provider",
)

urlpatterns = [
    path("o/", include(oauth_patterns)),
    path(
        ".well-known/oauth-authorization-server",
        MetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    # RFC 9728: every 401's WWW-Authenticate names it (project.auth.bearer_challenge).
    path(
        ".well-known/oauth-protected-resource",
        ResourceMetadataView.as_view(),
        name=ROUTE_NAME,
    ),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
