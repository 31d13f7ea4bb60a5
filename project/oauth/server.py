"""The oauthlib server behind DOT's views, with only the grants API.md enables.

oauthlib's all-in-one `Server` registers the implicit, password and device grants and the
`plain` PKCE method. Leaving them out of the routing tables (rather than rejecting them in the
validator) makes the endpoints answer with the standard errors: `unsupported_grant_type`,
`unsupported_response_type` and "transform algorithm not supported" for `plain`.
"""

from __future__ import annotations

from typing import Any

from oauthlib.oauth2 import Server
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256

GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token")
RESPONSE_TYPES = ("code",)
CODE_CHALLENGE_METHODS = ("S256",)


class AuthorizationServer(Server):
    def __init__(self, request_validator: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(request_validator, *args, **kwargs)
        # An unknown grant or response type falls back to the authorization-code handler,
        # which answers unsupported_grant_type / unsupported_response_type.
        grants: dict[str, Any] = getattr(self, "_grant_types")  # noqa: B009 (untyped base)
        responses: dict[str, Any] = getattr(self, "_response_types")  # noqa: B009
        self._grant_types = {name: grants[name] for name in GRANT_TYPES}
        self._response_types = {name: responses[name] for name in RESPONSE_TYPES}
        # Per instance, so oauthlib's class-level table keeps `plain` for anyone else.
        self.auth_grant._code_challenge_methods = {"S256": code_challenge_method_s256}
