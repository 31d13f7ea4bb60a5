"""API.md, Authentication: `python manage.py create_oauth_client ...` exactly as written there, run
as a real process (so `--json` must leave exactly one JSON object on stdout, whatever the logging
does), and the client-credentials token it enables acting as the application's owning user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.integrations.requests_client import OAuth2Session

from tests.live import ProcessServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_command_line_as_documented_and_client_credentials(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DEBUG": "1",
        "LOG_LEVEL": "DEBUG",  # chatty logging must still not reach stdout
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
    }
    assert manage(env, "migrate", "--verbosity", "0").returncode == 0
    created = manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        "User.objects.create_user('robot-owner', first_name='Rob', last_name='Otto')",
    )
    assert created.returncode == 0, created.stderr

    public = manage(
        env,
        "create_oauth_client",
        "--name", "Board SPA",
        "--user", "robot-owner",
        "--redirect-uri", "http://localhost:5173/callback",
        "--redirect-uri", "https://board.example/callback",
        "--public",
        "--grant", "authorization-code",
        "--json",
    )  # fmt: skip
    assert public.returncode == 0, public.stderr
    document = json.loads(public.stdout)  # the whole of stdout is one JSON value
    assert set(document) == {"client_id", "client_secret"}
    assert document["client_id"] and document["client_secret"] is None

    robot = manage(
        env,
        "create_oauth_client",
        "--name", "Robot",
        "--user", "robot-owner",
        "--grant", "client-credentials",
        "--json",
    )  # fmt: skip
    assert robot.returncode == 0, robot.stderr
    credentials = json.loads(robot.stdout)
    assert set(credentials) == {"client_id", "client_secret"} and credentials["client_secret"]

    refused = manage(env, "create_oauth_client", "--name", "X", "--user", "nobody", "--json")
    assert refused.returncode != 0 and refused.stdout.strip() == ""

    server = ProcessServer(env).start()
    try:
        session = OAuth2Session(
            client_id=credentials["client_id"], client_secret=credentials["client_secret"]
        )
        token = session.fetch_token(
            f"{server.url}/o/token/", grant_type="client_credentials", scope="read write"
        )
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        me = httpx.get(f"{server.url}/api/v1/me/", headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "robot-owner"
        created_project = httpx.post(
            f"{server.url}/api/v1/projects/", json={"name": "Robot work"}, headers=headers
        )
        assert created_project.status_code == 201
        assert created_project.json()["role"] == "owner"
        metadata = httpx.get(f"{server.url}/.well-known/oauth-authorization-server").json()
        for key, path in (
            ("authorization_endpoint", "/o/authorize/"),
            ("token_endpoint", "/o/token/"),
            ("revocation_endpoint", "/o/revoke_token/"),
            ("introspection_endpoint", "/o/introspect/"),
        ):
            assert metadata[key] == f"{server.url}{path}", (key, metadata[key])
        assert metadata["code_challenge_methods_supported"] == ["S256"]
        assert "password" not in metadata["grant_types_supported"]
        assert "implicit" not in metadata["grant_types_supported"]
        assert metadata["response_types_supported"] == ["code"]
    finally:
        server.stop()


def test_a_token_only_in_the_query_string_is_refused(asgi_server: Any, owner: Any) -> None:
    from tests.factories import make_token

    token = make_token(owner)
    for path in ("/api/v1/me/", "/api/v2/me/"):
        response = httpx.get(f"{asgi_server.url}{path}", params={"access_token": token})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
