"""Settings come from the environment: with DEBUG off the server refuses unsafe ones with one line
and no traceback; DATABASE_URL and REDIS_URL switch the backends. Each case is a fresh process
with a controlled environment, the way a server starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from project.settings import _INSECURE_KEY

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 50
SETUP = "import django; django.setup()"
SHOW = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, "
    "'cors': s.CORS_ALLOWED_ORIGINS, 'db': s.DATABASES['default'], "
    "'cache': s.CACHES['default'], 'layer': s.CHANNEL_LAYERS['default'], "
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL}, default=str))"
)


def start(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "SQLITE_PATH": "/nonexistent/never-opened.sqlite3",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def refused(reason: str, **env: str) -> None:
    result = start(SETUP, **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("Refusing to start")
    assert reason in lines[0]


def shown(**env: str) -> dict[str, Any]:
    result = start(SHOW, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "key",
    [None, "", "   ", _INSECURE_KEY, "too-short-0123456789"],
    ids=["missing", "empty", "blank", "default", "short"],
)
def test_debug_off_refuses_an_unsafe_secret_key(key):
    env = {"DEBUG": "0", "ALLOWED_HOSTS": "example.com"}
    if key is not None:
        env["SECRET_KEY"] = key
    refused("SECRET_KEY", **env)


@pytest.mark.parametrize("hosts", [None, "", " , "], ids=["missing", "empty", "blank"])
def test_debug_off_refuses_empty_allowed_hosts(hosts):
    env = {"DEBUG": "false", "SECRET_KEY": GOOD_KEY}
    if hosts is not None:
        env["ALLOWED_HOSTS"] = hosts
    refused("ALLOWED_HOSTS", **env)


def test_debug_is_off_unless_asked_for():
    refused("SECRET_KEY")


def test_debug_off_starts_with_safe_settings():
    settings = shown(
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="api.example.com, .example.org",
        CORS_ALLOWED_ORIGINS="https://app.example.com",
    )
    assert settings["debug"] is False
    assert settings["hosts"] == ["api.example.com", ".example.org"]
    assert settings["cors"] == ["https://app.example.com"]


def test_debug_on_runs_without_configuration_on_embedded_backends():
    settings = shown(DEBUG="1")
    assert settings["debug"] is True
    assert "localhost" in settings["hosts"] and "127.0.0.1" in settings["hosts"]
    assert settings["db"]["ENGINE"] == "project.sqlite"  # Django's, with a pool: project/sqlite
    assert settings["db"]["OPTIONS"]["pool"] == {"max_size": 10}
    assert settings["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings["layer"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert (settings["eager"], settings["broker"]) == (True, "memory://")


def test_database_url_and_redis_url_switch_the_backends():
    settings = shown(
        DEBUG="1",
        DATABASE_URL="postgres://app:pw@db.internal:6543/taskhub",
        REDIS_URL="redis://cache.internal:6380/3",
    )
    db = settings["db"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == (
        "db.internal",
        6543,
        "taskhub",
        "app",
    )
    # django-redis, degrading to misses while Redis is away (project/resilience.py).
    assert settings["cache"]["BACKEND"] == "project.resilience.ResilientRedisCache"
    assert settings["cache"]["LOCATION"] == "redis://cache.internal:6380/3"
    assert settings["layer"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert settings["layer"]["CONFIG"]["hosts"][0]["address"] == "redis://cache.internal:6380/3"
    assert (settings["eager"], settings["broker"]) == (False, "redis://cache.internal:6380/3")


def test_a_malformed_number_setting_refuses_to_start_with_one_line():
    refused(
        "DB_CONN_MAX_AGE must be a whole number",
        DEBUG="1",
        DB_CONN_MAX_AGE="abc",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
    )
