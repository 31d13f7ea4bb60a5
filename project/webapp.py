"""Serves the reference frontend (web/, built by Vite into web/dist/) at /app/.

The page is web/dist/index.html for /app/ and every client-side route under it, with the OAuth
client id written into its <meta name="taskhub-oauth-client-id"> tag; the JS and CSS it loads are
ordinary static files (/static/app/..., via STATICFILES_DIRS and WhiteNoise)."""

from __future__ import annotations

import html
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from oauth2_provider.models import get_application_model

from project.oauth.clients import DEMO_CLIENT_NAME

CLIENT_ID_TAG = '<meta name="taskhub-oauth-client-id" content="" />'
NOT_BUILT = (
    "<!doctype html><title>TaskHub app not built</title>"
    "<p>The web app is not built yet: run <code>make web</code> (or <code>make run</code>).</p>"
)


def frontend_client_id() -> str:
    """WEB_OAUTH_CLIENT_ID if set, else the public PKCE client `seed_demo` registers."""
    if settings.WEB_OAUTH_CLIENT_ID:
        return str(settings.WEB_OAUTH_CLIENT_ID)
    Application = get_application_model()
    client = (
        Application.objects.filter(name=DEMO_CLIENT_NAME, client_type=Application.CLIENT_PUBLIC)
        .order_by("id")
        .first()
    )
    return str(client.client_id) if client is not None else ""


@never_cache
@require_GET
def app_index(request: HttpRequest, path: str = "") -> HttpResponse:
    index = Path(settings.WEB_APP_DIST) / "index.html"
    try:
        page = index.read_text(encoding="utf-8")
    except FileNotFoundError:
        return HttpResponse(NOT_BUILT, status=503)
    tag = CLIENT_ID_TAG.replace('content=""', f'content="{html.escape(frontend_client_id())}"')
    response = HttpResponse(page.replace(CLIENT_ID_TAG, tag))
    # The app talks only to this origin; nothing else may frame or feed it.
    response["Content-Security-Policy"] = (
        "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
        "style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return response
