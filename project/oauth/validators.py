"""DOT's request validator with exact redirect URI matching."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    def _load_application(self, client_id: str | None, request: Any) -> Any:
        # A NUL byte (e.g. from a Basic header) makes PostgreSQL raise DataError, not the
        # ValueError DOT expects; no client id can contain one.
        if client_id and "\x00" in client_id:
            return None
        return super()._load_application(client_id, request)

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        # Simple string comparison (RFC 9700 section 4.1.3). DOT alone would also let a
        # loopback redirect URI change its port (RFC 8252), which API.md does not allow.
        registered = request.client.redirect_uris.split()
        return redirect_uri in registered and super().validate_redirect_uri(
            client_id, redirect_uri, request, *args, **kwargs
        )
