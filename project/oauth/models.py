"""What the authorization server remembers beyond DOT's own tables."""

from __future__ import annotations

from django.db import models


class RedeemedCode(models.Model):
    """An authorization code that was exchanged, and the refresh-token family it produced.

    DOT deletes the grant on exchange, so a replayed code is refused but the tokens of the first
    exchange would stay valid; RFC 6749 section 4.1.2 says they should be revoked. Only the
    code's SHA-256 is kept. A row is useless once the family's refresh tokens have expired, and
    is pruned then (`project.oauth.validators`)."""

    code_checksum = models.CharField(max_length=64, unique=True)
    application_id = models.BigIntegerField()
    token_family = models.UUIDField(null=True)
    access_token_id = models.BigIntegerField(null=True)
    redeemed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"code {self.code_checksum[:8]}… -> family {self.token_family}"
