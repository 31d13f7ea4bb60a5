# Production image: the ASGI server (uvicorn) or, with another command, the Celery worker.
# .dockerignore keeps the checkout's .venv, node_modules, databases, media and .env* out of it.

# --- 1. The web app (web/), built from its lock; only web/dist leaves this stage ----------------
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# --- 2. Runtime: the runtime lock only (no test or lint package), hash-checked ----------------
# Same Python as the Makefile prefers (tools/find-python: 3.13).
FROM python:3.13-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 1000 app
COPY requirements.txt .
RUN pip install --require-hashes -r requirements.txt
COPY . .
COPY --from=web /web/dist /app/web/dist
# collectstatic needs settings that pass the production checks; these values are build-time only.
RUN DEBUG=0 SECRET_KEY=build-only-secret-key-not-used-at-runtime-0000 ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/media /tmp/prometheus && chown -R app /app/media /tmp/prometheus

USER app
EXPOSE 8000
ENV PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    FORWARDED_ALLOW_IPS=172.30.0.10
# --proxy-headers trusts X-Forwarded-For/-Proto only from the addresses in FORWARDED_ALLOW_IPS
# (uvicorn reads the variable itself). The default is the nginx service's fixed address on
# docker-compose.yml's network (NGINX_IP); behind another proxy, set it to that proxy's address
# or subnet. Never "*": any client could then claim any address and scheme.
# One uvicorn process per container; scale with more containers (compose runs two).
# No per-message deflate: event frames are small JSON, and a zlib context per socket cost about
# 40 MB per 1,000 sockets and a quarter of the fan-out time (bench/RESULTS.md).
# Proxy headers are trusted only from the peers in $FORWARDED_ALLOW_IPS (uvicorn reads it when
# --forwarded-allow-ips is not given; default 127.0.0.1): never "*", or any client could choose the
# address the throttles and the login lockout key on.
CMD ["uvicorn", "project.asgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--lifespan", "off", "--proxy-headers", \
     "--timeout-graceful-shutdown", "30", "--no-server-header", \
     "--ws-per-message-deflate", "false"]
