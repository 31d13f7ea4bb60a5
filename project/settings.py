"""Settings, read from the environment here and nowhere else (12-factor).

Unset `DATABASE_URL` / `REDIS_URL` give the embedded default: a SQLite file, the in-memory
channel layer, the local-memory cache and eager Celery. Set them and the same code runs on
PostgreSQL and Redis.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        sys.exit(f"Refusing to start: {name} must be a whole number, not {value!r}.")


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

_INSECURE_KEY = "django-insecure-development-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip() or _INSECURE_KEY

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)

if not DEBUG:
    # Refuse to serve production with settings that would be unsafe; one line, no traceback.
    if SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 32:
        sys.exit("Refusing to start: DEBUG is off and SECRET_KEY is missing, default or short.")
    if not ALLOWED_HOSTS:
        sys.exit("Refusing to start: DEBUG is off and ALLOWED_HOSTS is empty.")

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "if-match",
    "if-none-match",
    "x-request-id",
    "x-csrftoken",
    "apollo-require-preflight",
)
CORS_EXPOSE_HEADERS = (
    "etag",
    "retry-after",
    "x-request-id",
    "api-version",
    "idempotent-replayed",
    "www-authenticate",
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "channels",
    "oauth2_provider",
    "project.oauth.apps.OAuthConfig",
    "axes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "graphene_django",
    "project.apps.ProjectConfig",
    "tasks",
    "graph",
    "realtime",
]

MIDDLEWARE = [
    "project.observability.ObservabilityMiddleware",
    # Under /api/: problem details for Django's own 404/500s, and the API-Version header.
    "tasks.api.middleware.ApiProblemMiddleware",
    # Database unreachable: 503 + Retry-After instead of a 500 (see project/resilience.py).
    "project.resilience.DatabaseUnavailableMiddleware",
    # Oversized bodies, too many fields: 413/400 in the transport's shape (project/client_errors).
    # Inside the two above, so its process_exception answers first.
    "project.client_errors.ClientErrorMiddleware",
    # Django's own, as subclasses that run in the event loop under ASGI wherever they do no
    # I/O (13 thread hops a request fewer: project/loop_middleware.py).
    "project.loop_middleware.SecurityMiddleware",
    "project.static.StaticFilesMiddleware",  # WhiteNoise, async-capable
    "corsheaders.middleware.CorsMiddleware",
    "project.loop_middleware.SessionMiddleware",
    "project.loop_middleware.CommonMiddleware",
    "project.loop_middleware.CsrfViewMiddleware",
    "project.loop_middleware.AuthenticationMiddleware",
    "project.loop_middleware.MessageMiddleware",
    "project.loop_middleware.XFrameOptionsMiddleware",
    # Last: turns a locked-out login into the lockout page (project/login_lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- HTTPS and browser security (production defaults pass `manage.py check --deploy`) -------------
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (see README, "Behind a reverse proxy").
if env_bool("SECURE_PROXY_SSL_HEADER", not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Probes and scrapers talk plain HTTP to the process, not through the proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", CORS_ALLOWED_ORIGINS)
# Django's security.W001-W003 match Django's own dotted paths in MIDDLEWARE, not the subclasses
# of project/loop_middleware.py; its check_security_middleware (project.W001-W003) is the same
# check with a subclass accepted.
SILENCED_SYSTEM_CHECKS = [
    "security.W001",
    "security.W002",
    "security.W003",
    *env_list("SILENCED_SYSTEM_CHECKS", []),
]

# --- Database -------------------------------------------------------------------------------------
# SQLite (the embedded default, or `DATABASE_URL=sqlite:///path`) and PostgreSQL. Any other engine
# is refused at start: the suite, the search index and the locking are proven on these two only.
_SQLITE_ENGINE = "django.db.backends.sqlite3"
_POSTGRES_ENGINE = "django.db.backends.postgresql"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sqlite_database(name: str) -> dict[str, object]:
    """The one SQLite configuration, whether named by SQLITE_PATH or by DATABASE_URL."""
    options: dict[str, object] = {
        # Wait for a writer instead of failing at once with "database is locked".
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        # Write-ahead log: a commit appends to `<file>-wal` and syncs it once, where the default
        # rollback journal creates, syncs and deletes a journal beside syncing the file (measured
        # here: 0.40 against 1.24 ms per commit; the `updateTask` round trip under uvicorn fell
        # by 1.3-5 ms of 8-17), and readers no longer wait for a writer. `synchronous=FULL`
        # keeps every commit durable through a power loss, not only through a crash (NORMAL
        # would not). The log needs the file on a local filesystem (it shares memory between
        # processes), as SQLite with several processes does anyway; back it up with `.backup`,
        # not by copying the file alone (README).
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
    }
    # Django's SQLite backend, with closed connections kept open for the next request: under
    # ASGI every request's thread would otherwise open (and parse the schema) anew
    # (project/sqlite/base.py). DB_POOL_SIZE=0 turns it off, as for PostgreSQL.
    pool_size = env_int("DB_POOL_SIZE", 10)
    if pool_size > 0:
        options["pool"] = {"max_size": pool_size}
    return {
        "ENGINE": "project.sqlite",
        "NAME": name,
        "OPTIONS": options,
        # The test database is a file too, not Django's shared-cache in-memory one: there, a read
        # that meets another thread's write (the live test server, the outbox dispatcher) fails
        # at once with "table is locked" instead of waiting like the embedded default does.
        # One per database name (so per checkout), beside the other temporary files.
        "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"taskhub-test-{_digest(name)}.db")},
    }


def _parse_database_url(url: str) -> dict[str, Any]:
    scheme = url.split("://", 1)[0] if "://" in url else "a bare word"
    try:
        parsed = dict(dj_database_url.parse(url))
    except ValueError:  # dj_database_url's UnknownSchemeError (e.g. mariadb://) is one
        parsed = {"ENGINE": None}
    if parsed["ENGINE"] not in {_SQLITE_ENGINE, _POSTGRES_ENGINE}:
        sys.exit(
            f"Refusing to start: DATABASE_URL names {scheme!r}; TaskHub runs on PostgreSQL "
            "(postgres://...) or SQLite (sqlite:///path), not on MySQL, MariaDB or others."
        )
    return parsed


DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
_database = _parse_database_url(DATABASE_URL) if DATABASE_URL else None
if _database is None:
    DATABASES = {
        "default": sqlite_database(os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")))
    }
elif _database["ENGINE"] == _SQLITE_ENGINE:
    DATABASES = {"default": sqlite_database(str(_database["NAME"]))}
else:
    _database.update(CONN_MAX_AGE=env_int("DB_CONN_MAX_AGE", 60), CONN_HEALTH_CHECKS=True)
    # An unreachable database fails a request fast (503) instead of hanging it.
    _database.setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5)
    )
    # Under ASGI every sync request runs in a thread of its own, so CONN_MAX_AGE keeps one
    # connection per finished request open until it is garbage collected (make bench: 74 server
    # connections after 3 s of 8 clients). A per-process pool reuses a few instead.
    # On by default; DB_POOL_SIZE=0 goes back to persistent connections.
    DB_POOL_SIZE = env_int("DB_POOL_SIZE", 10)
    if DB_POOL_SIZE > 0:
        _database["CONN_MAX_AGE"] = 0
        _database["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": DB_POOL_SIZE,
            "timeout": env_int("DB_CONNECT_TIMEOUT", 5),
        }
    # Server-side parameter binding and prepared statements, opt-in: Django's documented OPTIONS,
    # off by default there so that transaction-mode poolers keep working (PgBouncer before 1.21
    # cannot keep them). With DB_PREPARED_STATEMENTS=1 a statement run 5 times on a connection
    # (psycopg's threshold) is parsed and planned once per connection. Measured (bench/PROFILES.md,
    # eighth pass): updateTask's service call 5.2 -> 4.2 ms in-process; not on by default
    # because the end-to-end rows of `make bench` did not show the gain above this machine's
    # noise.
    if env_bool("DB_PREPARED_STATEMENTS", False):
        _database["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
    DATABASES = {"default": _database}

# Primary keys stay `AutoField`: graphene-django maps only AutoField to global-ID filters.
# The event log, which grows without bound, declares a BigAutoField of its own.
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# --- Redis: cache, channel layer, Celery broker ---------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "taskhub")

if REDIS_URL:
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.retry import Retry

    # A pooled connection that Redis dropped (it restarted) fails once and is replaced: one
    # immediate retry, no backoff, so a Redis that is really down still fails fast.
    CACHES = {
        "default": {
            # django-redis that degrades to misses and no-op writes while Redis is away.
            "BACKEND": "project.resilience.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "FLUSH_AFTER_OUTAGE": ["api-response:*"],
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                "CONNECTION_POOL_KWARGS": {
                    "max_connections": 200,
                    "retry": Retry(NoBackoff(), 1),
                    "retry_on_error": [RedisConnectionError],
                },
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # redis-py's default pool caps at 100 connections and its 5 s socket
                        # timeout races the layer's 5 s blocking read: set both deliberately.
                        "max_connections": env_int("CHANNEL_LAYER_MAX_CONNECTIONS", 1000),
                        "socket_timeout": 15,
                        "socket_connect_timeout": 2,
                        "retry": AsyncRetry(NoBackoff(), 1),
                        "retry_on_error": [RedisConnectionError],
                    }
                ],
                "prefix": f"{CACHE_KEY_PREFIX}:ch",
                "capacity": env_int("CHANNEL_LAYER_CAPACITY", 1500),
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "taskhub",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Seconds a process leaves Redis alone after a failed cache call before trying again.
REDIS_RETRY_SECONDS = env_float("REDIS_RETRY_SECONDS", 2)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# /readyz says `jobs: stalled` when jobs wait and no worker answers a ping (project.job_queue).
JOB_WORKER_PING_TIMEOUT_SECONDS = env_float("JOB_WORKER_PING_TIMEOUT_SECONDS", 0.5)
JOB_WORKER_CHECK_SECONDS = env_float("JOB_WORKER_CHECK_SECONDS", 15)

# --- Transactional outbox (tasks.outbox) ---------------------------------------------------------
# An event committed and not dispatched this long after its commit (a crash, a lost job) is
# dispatched again by the sweeper; also how long a dispatcher owns an entry it claimed.
OUTBOX_GRACE_SECONDS = env_float("OUTBOX_GRACE_SECONDS", 30)
OUTBOX_SWEEP_INTERVAL_SECONDS = env_float("OUTBOX_SWEEP_INTERVAL_SECONDS", 10)
OUTBOX_SWEEP_BATCH = env_int("OUTBOX_SWEEP_BATCH", 200)
# A web process deletes the marks of the events it sent together, this long after the first
# (one transaction per window, after the fan-out rather than beside it: tasks.outbox).
OUTBOX_COMPLETE_DELAY_SECONDS = env_float("OUTBOX_COMPLETE_DELAY_SECONDS", 0.02)
# Who sweeps: Celery beat with a broker (project/celery.py), else a loop in each web process.
OUTBOX_SWEEP_IN_PROCESS = env_bool("OUTBOX_SWEEP_IN_PROCESS", not REDIS_URL)
# Test hook only (the crash test): the web process waits this long before dispatching.
OUTBOX_TEST_DISPATCH_DELAY_SECONDS = env_float("OUTBOX_TEST_DISPATCH_DELAY_SECONDS", 0)

# --- Event log continuity and retention (tasks.continuity, tasks.retention) ----------------------
# Events are kept this long; a stream resumed from further back answers `CURSOR_TOO_OLD`.
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 90)
# How often beat prunes the log (tasks.prune_events), in seconds.
EVENT_PRUNE_INTERVAL_SECONDS = env_float("EVENT_PRUNE_INTERVAL_SECONDS", 3600)
# A resume that would replay more events than this answers `TOO_MANY_MISSED` (re-fetch instead).
EVENT_REPLAY_MAX = env_int("EVENT_REPLAY_MAX", 1000)

# --- Outgoing webhooks (tasks.webhook_delivery, tasks.outbound) -----------------------------------
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env_float("WEBHOOK_CONNECT_TIMEOUT_SECONDS", 5)
# Off in production: targets resolving to loopback/private/link-local/reserved IPs are refused.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 5)
WEBHOOK_BACKOFF_BASE_SECONDS = env_float("WEBHOOK_BACKOFF_BASE_SECONDS", 10)
WEBHOOK_BACKOFF_MAX_SECONDS = env_float("WEBHOOK_BACKOFF_MAX_SECONDS", 3600)
WEBHOOK_RETRY_AFTER_MAX_SECONDS = env_float("WEBHOOK_RETRY_AFTER_MAX_SECONDS", 3600)
# Without a broker (Celery eager) deliveries run on this many in-process threads, never inline.
WEBHOOK_LOCAL_WORKERS = env_int("WEBHOOK_LOCAL_WORKERS", 4)

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password logins (/accounts/login/, /admin/login/) go through django-axes first: after
# LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that pair is locked out
# for LOGIN_LOCKOUT_SECONDS (429 with Retry-After). Counters live in the default cache (Redis when
# configured), so every server process enforces the same limit.
AUTHENTICATION_BACKENDS = [
    "project.login_lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("LOGIN_LOCKOUT_SECONDS", 900))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "project.login_lockout.lockout_response"
AXES_ENABLE_ADMIN = False  # the cache handler keeps no AccessAttempt rows to show
AXES_VERBOSE = False
if not REDIS_URL:
    # axes warns about a per-process cache; the embedded default is one process, where it holds.
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "axes.W001"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/graphql"

# How long a process may reuse a bearer token's row before reading it again: a token revoked on
# another process is refused within this many seconds (at once on the revoking process).
TOKEN_CACHE_SECONDS = env_float("TOKEN_CACHE_SECONDS", 1.0)
ACCESS_TOKEN_LIFETIME = timedelta(seconds=env_int("ACCESS_TOKEN_LIFETIME_SECONDS", 3600))
REFRESH_TOKEN_LIFETIME = timedelta(seconds=env_int("REFRESH_TOKEN_LIFETIME_SECONDS", 30 * 86400))

OAUTH_REDIRECT_URI_SCHEMES = env_list(
    "OAUTH_REDIRECT_URI_SCHEMES", ["http", "https"] if DEBUG else ["https"]
)
OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read your projects and tasks", "write": "Change your projects and tasks"},
    "DEFAULT_SCOPES": ["read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(REFRESH_TOKEN_LIFETIME.total_seconds()),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": env_int("OAUTH_AUTHORIZATION_CODE_LIFETIME_SECONDS", 60),
    "ROTATE_REFRESH_TOKEN": True,
    # A replayed (already rotated) refresh token fails and revokes its whole family.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": OAUTH_REDIRECT_URI_SCHEMES,
    "ALLOW_URI_WILDCARDS": False,
    "REQUEST_APPROVAL_PROMPT": "force",
    # Empty: the issuer is the origin the metadata document is served from.
    "OIDC_ISS_ENDPOINT": os.environ.get("OAUTH_ISSUER", "").strip().rstrip("/"),
    # RFC 9728 metadata (/.well-known/oauth-protected-resource, project/oauth/resource.py).
    "OAUTH2_PROTECTED_RESOURCE_NAME": "TaskHub API",
    # Only authorization code (+ PKCE S256), client credentials and refresh token exist.
    "OAUTH2_SERVER_CLASS": "project.oauth.server.AuthorizationServer",
    "OAUTH2_VALIDATOR_CLASS": "project.oauth.validators.Validator",
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    # RFC 9700 (OAuth 2.0 Security BCP): every compliance gate DOT 3.4 has, on.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # only sha256 checksums of tokens at rest
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # Plain-http redirect URIs are a development convenience; with them allowed, an enforcing
    # gate would turn `check --deploy` into an error.
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": "http" not in OAUTH_REDIRECT_URI_SCHEMES,
}

# RFC 7662: a confidential client introspects the tokens issued to it; the client ids listed here
# (resource servers) may introspect any token. Any other token reads {"active": false}.
OAUTH_INTROSPECTION_CLIENTS = env_list("OAUTH_INTROSPECTION_CLIENTS", [])
# Wrong client secrets at /o/token/ (and the revocation and introspection endpoints): after this
# many failures for one client id from one address, 429 + Retry-After for the rest of the window.
OAUTH_CLIENT_FAILURE_LIMIT = env_int("OAUTH_CLIENT_FAILURE_LIMIT", 10)
OAUTH_CLIENT_LOCKOUT_SECONDS = env_int("OAUTH_CLIENT_LOCKOUT_SECONDS", 300)

# --- /metrics (project/metrics_access.py) ---------------------------------------------------------
# A scraper sends `Authorization: Bearer <METRICS_TOKEN>`, or connects from METRICS_ALLOWED_IPS
# (addresses or networks). With DEBUG off and neither set, /metrics answers 403.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        sys.exit(f"Refusing to start: METRICS_ALLOWED_IPS has {_network!r}, not an address.")

# --- Internationalisation, static files -----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The reference frontend (web/): Vite builds it into web/dist with asset URLs under /static/app/.
WEB_APP_DIST = BASE_DIR / "web" / "dist"
# Which OAuth client the app at /app/ signs in as; empty: the public client seed_demo registers.
WEB_OAUTH_CLIENT_ID = os.environ.get("WEB_OAUTH_CLIENT_ID", "").strip()
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [p for p in [BASE_DIR / "static"] if p.exists()]
if WEB_APP_DIST.exists():
    STATICFILES_DIRS.append(("app", WEB_APP_DIST))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"
STORAGES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Attachments (tasks.uploads, tasks.jobs) ------------------------------------------------------
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_PROJECT_QUOTA_BYTES = env_int("ATTACHMENT_PROJECT_QUOTA_BYTES", 500 * 1024 * 1024)
ATTACHMENT_MAX_IMAGE_PIXELS = env_int("ATTACHMENT_MAX_IMAGE_PIXELS", 40_000_000)
# The size limit stops a multipart upload while it streams, ahead of the storing handlers.
FILE_UPLOAD_HANDLERS = [
    "tasks.uploads.limits.SizeLimitUploadHandler",
    # Django's two storing handlers, hashing each file as it streams in (tasks.uploads.hashing).
    "tasks.uploads.hashing.HashingMemoryFileUploadHandler",
    "tasks.uploads.hashing.HashingTemporaryFileUploadHandler",
]
# Downloads from local disk handed to nginx (`X-Accel-Redirect`) after the access check: the
# path of an `internal` location aliased to MEDIA_ROOT (deploy/nginx.conf), e.g. /_attachments/.
DOWNLOAD_ACCEL_REDIRECT = os.environ.get("DOWNLOAD_ACCEL_REDIRECT", "").strip()
# S3-compatible object storage (AWS S3, MinIO, Ceph, R2...) instead of MEDIA_ROOT when a bucket is
# named. Credentials come from boto3's usual sources (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
# an instance role), never from this file. Keys are random, so overwriting needs no existence check.
S3_BUCKET = os.environ.get("S3_BUCKET", "").strip()
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL", "").strip() or None,
            "region_name": os.environ.get("S3_REGION", "").strip() or None,
            "addressing_style": os.environ.get("S3_ADDRESSING_STYLE", "").strip() or None,
            "location": os.environ.get("S3_PREFIX", "").strip(),
            "default_acl": None,  # private objects: downloads go through the app's access check
            "querystring_auth": True,
            "file_overwrite": True,
        },
    }

# --- REST framework -------------------------------------------------------------------------------
THROTTLE_RATES = {
    "anon": os.environ.get("THROTTLE_ANON", "60/min"),
    "user": os.environ.get("THROTTLE_USER", "1200/min"),
    "write": os.environ.get("THROTTLE_WRITE", "300/min"),
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so its `WWW-Authenticate: Bearer ...` challenge is the one a 401 carries.
        "project.auth.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Authenticated, and a bearer token needs `read` for safe methods, `write` otherwise.
    "DEFAULT_PERMISSION_CLASSES": ["project.auth.TokenHasScope"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "DEFAULT_THROTTLE_CLASSES": [
        "tasks.api.throttles.AnonThrottle",
        "tasks.api.throttles.UserThrottle",
        "tasks.api.throttles.WriteThrottle",
    ],
    "EXCEPTION_HANDLER": "tasks.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # The anonymous throttle keys on REMOTE_ADDR only: a client cannot pick its own key with
    # X-Forwarded-For. Behind a proxy, uvicorn's --proxy-headers rewrites REMOTE_ADDR for peers
    # in FORWARDED_ALLOW_IPS; NUM_PROXIES is for a server that does not (DRF reads that many
    # X-Forwarded-For entries from the right).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}
# Seconds a task list/detail response stays in the shared cache (0 turns the cache off).
API_CACHE_SECONDS = env_int("API_CACHE_SECONDS", 60)
SPECTACULAR_SETTINGS = {
    "TITLE": "TaskHub API",
    "DESCRIPTION": "Task collaboration: projects, tasks, comments, attachments, activity.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Relative: the API is described on whatever origin serves the document.
    "SERVERS": [{"url": "/", "description": "This server"}],
    # Redocly's `recommended` rules (make lint); see tasks/api/openapi_hooks.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tasks.api.openapi_hooks.add_summaries",
        "tasks.api.openapi_hooks.type_nullable_references",
    ],
}

# --- GraphQL --------------------------------------------------------------------------------------
# graphene-django's own settings, read by its GraphQLView (subclassed in graph/views.py) and its
# `graphql_schema` command. MIDDLEWARE is explicit: graphene-django otherwise adds its debug
# middleware whenever DEBUG is on, which would make DEBUG runs measure something else.
GRAPHENE = {
    "SCHEMA": "graph.schema.schema",
    "SCHEMA_OUTPUT": "schema.graphql",
    "MIDDLEWARE": [],
    "ATOMIC_MUTATIONS": False,
}
# Query text over this many bytes (UTF-8) is refused before it is parsed or validated.
GRAPHQL_MAX_QUERY_BYTES = env_int("GRAPHQL_MAX_QUERY_BYTES", 32 * 1024)
GRAPHQL_MAX_DEPTH = env_int("GRAPHQL_MAX_DEPTH", 10)
GRAPHQL_MAX_COST = env_int("GRAPHQL_MAX_COST", 50_000)
GRAPHQL_MAX_ALIASES = env_int("GRAPHQL_MAX_ALIASES", 30)
GRAPHQL_INTROSPECTION = env_bool("GRAPHQL_INTROSPECTION", DEBUG)

# --- Realtime -------------------------------------------------------------------------------------
WEBSOCKET_MAX_MESSAGE_BYTES = env_int("WEBSOCKET_MAX_MESSAGE_BYTES", 64 * 1024)
WEBSOCKET_AUTH_TIMEOUT_SECONDS = env_int("WEBSOCKET_AUTH_TIMEOUT_SECONDS", 10)
# Inbound messages per connection (token bucket), and how often open sockets re-check that their
# token is still valid and their user still a member (seconds).
WEBSOCKET_RATE_LIMIT_PER_SECOND = env_int("WEBSOCKET_RATE_LIMIT_PER_SECOND", 20)
WEBSOCKET_RATE_LIMIT_BURST = env_int("WEBSOCKET_RATE_LIMIT_BURST", 60)
WEBSOCKET_RECHECK_SECONDS = float(os.environ.get("WEBSOCKET_RECHECK_SECONDS", "") or 2)
# Per socket: active graphql-transport-ws subscriptions, and event executions in flight.
WEBSOCKET_MAX_SUBSCRIPTIONS = env_int("WEBSOCKET_MAX_SUBSCRIPTIONS", 20)
WEBSOCKET_MAX_CONCURRENT_OPERATIONS = env_int("WEBSOCKET_MAX_CONCURRENT_OPERATIONS", 4)
# Frames queued for a client that does not read before its socket is closed with 4410 ("resume":
# realtime/base.py): dropping events silently would leave its stream incomplete.
WEBSOCKET_SEND_QUEUE_LIMIT = env_int("WEBSOCKET_SEND_QUEUE_LIMIT", 10_000)

# Presence (tasks/presence.py): a viewer whose process stops refreshing it is gone within
# PRESENCE_TTL_SECONDS; each process pushes at most one presence list per project per
# PRESENCE_THROTTLE_SECONDS (always the latest).
PRESENCE_TTL_SECONDS = env_float("PRESENCE_TTL_SECONDS", 30)
PRESENCE_THROTTLE_SECONDS = env_float("PRESENCE_THROTTLE_SECONDS", 1)

# The ASGI entry moves what it loaded (modules, settings, URLconf, the GraphQL schema) out of the
# cyclic garbage collector's reach (project/asgi.py), so a full collection in a process holding
# thousands of sockets walks the sockets only. The test suite turns it off: its process imports
# the entry beside its own objects.
GC_FREEZE_AT_START = env_bool("GC_FREEZE_AT_START", True)

# --- Logging: one JSON object a line --------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            # python-json-logger's formatter, masking tokens and secrets in every line.
            "()": "project.redaction.RedactingJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "filters": {"request_id": {"()": "project.observability.RequestIdLogFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's defaults add plain-text console handlers to these when DEBUG is on; replaced
        # here so every line stays one JSON object.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "py.warnings": {"handlers": ["console"], "propagate": False},
        # uvicorn's own lines (start, shutdown, errors) as JSON too. Its plain-text access log
        # (with query strings) stays off: ObservabilityMiddleware writes one JSON line a request.
        "uvicorn": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "uvicorn.error": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "uvicorn.access": {"handlers": [], "propagate": False},
    },
}
