"""DATABASES per engine: `DATABASE_URL=sqlite:///path` gets exactly what `SQLITE_PATH` gets (no
PostgreSQL connection options), PostgreSQL gets its timeout and pool, and MySQL, MariaDB or any
other engine is refused at start with one line. A live server on a `sqlite:///` URL migrates and
is ready."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import ROOT, ProcessServer
from tests.test_settings import refused, shown


def test_a_sqlite_url_gets_exactly_what_sqlite_path_gets(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    by_url = shown(DEBUG="1", DATABASE_URL=f"sqlite:///{path}")["db"]
    by_path = shown(DEBUG="1", SQLITE_PATH=path)["db"]
    assert by_url == by_path
    assert by_url["NAME"] == path
    assert by_url["OPTIONS"] == {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
        "pool": {"max_size": 10},
    }
    assert by_url["CONN_MAX_AGE"] == 0


def test_postgres_keeps_its_connect_timeout_and_pool() -> None:
    db = shown(DEBUG="1", DATABASE_URL="postgres://app@db.internal/taskhub")["db"]
    assert db["OPTIONS"]["connect_timeout"] == 5
    assert db["OPTIONS"]["pool"]["max_size"] == 10


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@127.0.0.1:3306/test",
        "mariadb://root@127.0.0.1:3306/test",
        "oracle://scott:tiger@db.internal/orcl",
        "nonsense",
    ],
)
def test_other_engines_are_refused_with_one_line(url: str) -> None:
    refused("TaskHub runs on PostgreSQL (postgres://...) or SQLite", DEBUG="1", DATABASE_URL=url)


def test_the_refusal_does_not_echo_credentials() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DEBUG": "1",
            "DATABASE_URL": "mysql://root:hunter2@127.0.0.1:3306/test",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "mysql" in result.stderr and "hunter2" not in result.stderr


@pytest.mark.e2e
def test_a_live_server_on_a_sqlite_url_migrates_and_is_ready(tmp_path: Path) -> None:
    env: dict[str, Any] = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'taskhub.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert (tmp_path / "taskhub.sqlite3").stat().st_size > 0
    with contextlib.closing(sqlite3.connect(tmp_path / "taskhub.sqlite3")) as migrated:
        assert migrated.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # kept in the file
    server = ProcessServer(env).start()
    try:
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["database"] == "ok"
        # A token lookup reads a migrated table, not just `SELECT 1`: an unknown token is a 401.
        me = httpx.get(
            f"{server.url}/api/v1/me/", headers={"Authorization": "Bearer unknown"}, timeout=10
        )
        assert me.status_code == 401, me.text
    finally:
        server.stop()
