# Production image: the ASGI server (uvicorn workers) or, with another command, the Celery worker.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 1000 app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
# collectstatic needs settings that pass the production checks; these values are build-time only.
RUN DEBUG=0 SECRET_KEY=build-only-secret-key-not-used-at-runtime-0000 ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/media /tmp/prometheus && chown -R app /app/media /tmp/prometheus

USER app
EXPOSE 8000
ENV PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
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
