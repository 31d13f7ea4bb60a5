# Two commands on a fresh machine: `make run` serves the product, `make test` passes the suite.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
# Debian packages (Chromium for the browser tests, wrk for the benchmark): root runs apt-get itself,
# anyone else through sudo.
APT := $(if $(filter 0,$(shell id -u)),apt-get,sudo apt-get)

.PHONY: run test lint format schema migrate worker serve bench bench-quick bench-deps browser-deps clean install web

# Python 3.13 (or 3.12): `tools/find-python` looks on PATH and under pyenv; PYTHON=... overrides it.
$(BIN)/python:
	@py="$${PYTHON:-$$(tools/find-python)}" && echo "Creating $(VENV) with $$py" && "$$py" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the pinned requirements change.
$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# The reference frontend (web/): `npm ci` from the committed lock file whenever it changes, then a
# Vite build whenever web/dist is missing or older than any source. Django serves it at /app/.
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts \
	web/tsconfig.json web/package.json
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run --silent build

web: web/dist/index.html

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: export DEBUG ?= 1
run: install web
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Serving on http://$(HOST):$(PORT)/  (app at /app/, GraphQL at /graphql, REST at /api/v1/)"
	$(BIN)/uvicorn project.asgi:application --host $(HOST) --port $(PORT) --lifespan off

# Production entry: several uvicorn worker processes (set REDIS_URL so they share events, cache
# and throttle counters), metrics aggregated across them, graceful shutdown on SIGTERM.
PROM_DIR ?= /tmp/taskhub-prometheus
serve: install web
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	rm -rf $(PROM_DIR) && mkdir -p $(PROM_DIR)
	PROMETHEUS_MULTIPROC_DIR=$(PROM_DIR) $(BIN)/uvicorn project.asgi:application \
		--host $(HOST) --port $(PORT) --lifespan off --no-server-header \
		--workers $${WEB_CONCURRENCY:-$$( [ -n "$$REDIS_URL" ] && echo 2 || echo 1 )} \
		--proxy-headers --forwarded-allow-ips "$${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
		--timeout-graceful-shutdown 30 --ws-per-message-deflate false

worker: install
	$(BIN)/celery -A project worker --beat --schedule /tmp/taskhub-celerybeat-schedule --loglevel=INFO

lint: export DEBUG ?= 1
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy tasks
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check_schema

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: export DEBUG ?= 1
schema: install
	$(BIN)/python manage.py graphql_schema --schema graph.schema.schema --out schema.graphql

test: lint browser-deps web
	$(BIN)/pytest

# Headless Chromium (Debian's package) for the offline GraphiQL check; never `playwright install`.
browser-deps:
	@test -x /usr/bin/chromium || ($(APT) update -qq && $(APT) install -y -qq chromium)

# wrk, the load generator, comes from Debian's packages.
bench-deps:
	@command -v wrk >/dev/null || ($(APT) update -qq && $(APT) install -y -qq wrk)

bench: install bench-deps
	$(BIN)/python -m bench

bench-quick: install bench-deps
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache web/node_modules web/dist
