"""DOT's request validator with exact redirect URI matching and authorization-code replay
revocation."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator

from project.oauth.models import RedeemedCode


def code_checksum(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


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

    # --- RFC 6749 section 4.1.2: a code used twice revokes what the first use issued ----------

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            return True
        if isinstance(code, str) and client is not None:
            redeemed = RedeemedCode.objects.filter(
                code_checksum=code_checksum(code), application_id=client.pk
            ).first()
            if redeemed is not None:
                _revoke_redeemed(redeemed)
        return False

    def _create_refresh_token(
        self, request: Any, refresh_token_code: str, access_token: Any, previous: Any
    ) -> Any:
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous
        )
        if request.grant_type == "authorization_code" and isinstance(request.code, str):
            _remember_redemption(request, refresh_token, access_token)
        return refresh_token


def _remember_redemption(request: Any, refresh_token: Any, access_token: Any) -> None:
    lifetime = settings.REFRESH_TOKEN_LIFETIME
    # Past the refresh-token lifetime the family's tokens are dead anyway.
    RedeemedCode.objects.filter(redeemed_at__lt=timezone.now() - lifetime).delete()
    try:
        with transaction.atomic():
            RedeemedCode.objects.create(
                code_checksum=code_checksum(request.code),
                application_id=request.client.pk,
                token_family=refresh_token.token_family,
                access_token_id=access_token.pk,
            )
    except IntegrityError:
        # Two exchanges of one code raced past the grant check: that is a replay too.
        earlier = RedeemedCode.objects.get(code_checksum=code_checksum(request.code))
        _revoke_redeemed(earlier)
        get_refresh_token_model().revoke_family(refresh_token.token_family)


def _revoke_redeemed(redeemed: RedeemedCode) -> None:
    get_refresh_token_model().revoke_family(redeemed.token_family)
    if redeemed.access_token_id is not None:
        get_access_token_model().objects.filter(pk=redeemed.access_token_id).delete()
