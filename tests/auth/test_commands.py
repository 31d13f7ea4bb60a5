"""create_oauth_client and the demo PKCE client seed_demo registers."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import Application

from project.oauth.clients import DEMO_REDIRECT_URIS

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_oauth_client", *args, stdout=out)
    return out.getvalue()


def test_json_output_is_one_object_with_a_working_secret(owner):
    out = run(
        "--name",
        "Board",
        "--user",
        owner.username,
        "--redirect-uri",
        "https://board.example/cb",
        "--redirect-uri",
        "https://board.example/cb2",
        "--json",
    )
    data = json.loads(out)
    assert set(data) == {"client_id", "client_secret"}
    app = Application.objects.get(client_id=data["client_id"])
    assert app.user == owner and app.client_type == "confidential"
    assert app.authorization_grant_type == "authorization-code"
    assert app.redirect_uris.split() == ["https://board.example/cb", "https://board.example/cb2"]
    # Stored hashed: the printed plaintext verifies against it and is not stored as is.
    assert app.client_secret != data["client_secret"]
    assert check_password(data["client_secret"], app.client_secret)


def test_public_client_has_no_secret(owner):
    data = json.loads(
        run(
            "--name",
            "SPA",
            "--user",
            owner.username,
            "--public",
            "--redirect-uri",
            "http://localhost:5173/callback",
            "--json",
        )
    )
    assert data["client_secret"] is None
    assert Application.objects.get(client_id=data["client_id"]).client_type == "public"


def test_client_credentials_client(owner):
    data = json.loads(
        run("--name", "Bot", "--user", owner.username, "--grant", "client-credentials", "--json")
    )
    app = Application.objects.get(client_id=data["client_id"])
    assert app.authorization_grant_type == "client-credentials"


def test_human_readable_output(owner):
    out = run("--name", "Bot", "--user", owner.username, "--grant", "client-credentials")
    app = Application.objects.get()
    assert f"client_id:     {app.client_id}" in out
    assert "client_secret: " in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody"], "No user named"),
        (["--grant", "client-credentials", "--public"], "public client"),
        ([], "at least one --redirect-uri"),
        (["--redirect-uri", "ftp://x.example/cb"], "redirect_uris"),
        (["--redirect-uri", "https://x.example/cb#frag"], "redirect_uris"),
        (["--grant", "client-credentials", "--redirect-uri", "https://x.example/cb"], "only for"),
    ],
)
def test_bad_input_is_a_clean_command_error(owner, args, message):
    base = ["--name", "X", "--user", owner.username]
    if "--user" in args:
        base = ["--name", "X"]
    with pytest.raises(CommandError, match=message):
        run(*base, *args)
    assert not Application.objects.exists()


def test_seed_demo_creates_the_public_pkce_client_once(settings):
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    app = Application.objects.get(client_type="public")
    assert app.redirect_uris.split() == list(DEMO_REDIRECT_URIS)
    assert app.authorization_grant_type == "authorization-code"
    assert app.client_id in first.getvalue() and app.client_id in second.getvalue()
