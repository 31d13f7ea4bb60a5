from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    # User passwords and client secrets are hashed with PBKDF2 (~1M rounds) by default; these
    # tests are about the OAuth protocol, not the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
