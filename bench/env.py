"""The benchmark's environment: production settings, its own database, data seeded once."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BENCH_DB_NAME = "taskhub_bench"


def has_real_services() -> bool:
    return bool(os.environ.get("DATABASE_URL")) and bool(os.environ.get("REDIS_URL"))


def describe_backends() -> str:
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    layer = "Redis" if os.environ.get("REDIS_URL") else "in-memory channel layer / local cache"
    return f"{database} + {layer}"


def _bench_database_url(url: str) -> str:
    """The same server as DATABASE_URL, but a database of the benchmark's own."""
    import psycopg

    parsed = urlparse(url)
    admin = urlunparse(parsed._replace(scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB_NAME,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB_NAME}"')
    return urlunparse(parsed._replace(path=f"/{BENCH_DB_NAME}"))


def configure(settings_module: str | None = None) -> None:
    """Production-like settings for this process and the servers it starts."""
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        DJANGO_SETTINGS_MODULE=settings_module or "project.settings",
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnop",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="0",
        SECURE_PROXY_SSL_HEADER="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        THROTTLE_ANON="100000000/min",
        THROTTLE_USER="100000000/min",
        THROTTLE_WRITE="100000000/min",
        LOG_LEVEL="WARNING",
        # Lets an anonymous `{ __typename }` through the GraphQL view, so the bearer-token row
        # compares the same view with and without authentication.
        GRAPHQL_INTROSPECTION="1",
        CACHE_KEY_PREFIX="taskhub-bench",
        # whitenoise warns once per process that collectstatic has not run; static files are
        # not part of any workload.
        PYTHONWARNINGS="ignore::UserWarning:django.core.handlers.base",
    )
    if os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = _bench_database_url(os.environ["DATABASE_URL"])
        # Without a pool, ASGI request threads leave a connection each (see project/settings.py).
        os.environ.setdefault("DB_POOL_SIZE", "8")
    else:
        os.environ["SQLITE_PATH"] = str(OUT / "bench.sqlite3")
    import django

    django.setup()


def prepare_data() -> tuple[int, str]:
    from django.core.cache import cache
    from django.core.management import call_command

    from bench.seed import compact, seed

    call_command("migrate", verbosity=0)
    project_id, token = seed()
    compact()
    cache.clear()
    print(f"Seeded project {project_id} on {describe_backends()}.", flush=True)
    return project_id, token
