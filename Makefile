# Two commands on a fresh machine: `make run` serves the product, `make test` passes the suite.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# One stamp per lock: `make run` installs the runtime lock only, `make test` adds the dev lock.
STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
PIP_INSTALL := $(BIN)/pip install --quiet --disable-pip-version-check --require-hashes
# Debian packages (Chromium for the browser tests, wrk for the benchmark): root runs apt-get itself,
# anyone else through sudo.
APT := $(if $(filter 0,$(shell id -u)),apt-get,sudo apt-get)

.PHONY: run test lint format schema migrate worker serve bench bench-quick bench-deps browser-deps clean install install-dev lock web redocly openapi-lint

# Python 3.13 (or 3.12): `tools/find-python` looks on PATH and under pyenv; PYTHON=... overrides it.
$(BIN)/python:
	@py="$${PYTHON:-$$(tools/find-python)}" && echo "Creating $(VENV) with $$py" && "$$py" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever a lock changes. Both locks are complete and hashed (pyproject.toml declares,
# `make lock` compiles), so pip resolves nothing and installs exactly what was reviewed.
$(STAMP): requirements.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt
	touch $(STAMP)

$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $(DEV_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

# Re-resolve both locks from pyproject.toml, keeping every existing pin (uv, pinned in the `lock`
# group). To upgrade one package: make lock UV_ARGS="--upgrade-package NAME".
lock: install-dev
	$(BIN)/python tools/locks.py compile $(UV_ARGS)

# The reference frontend (web/): `npm ci` from the committed lock file whenever it changes, then a
# Vite build whenever web/dist is missing or older than any source. Django serves it at /app/.
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts \
	web/tsconfig.json web/package.json
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run --silent build

web: web/dist/index.html

# Redocly CLI, pinned in tools/package.json and installed from its lock, lints the OpenAPI
# documents (v1 and v2, as /api/schema/ serves them) with the rules in redocly.yaml.
tools/node_modules/.package-lock.json: tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error

redocly: tools/node_modules/.package-lock.json

openapi-lint: export DEBUG ?= 1
openapi-lint: export REDOCLY_TELEMETRY = off
openapi-lint: export REDOCLY_SUPPRESS_UPDATE_NOTICE = true
openapi-lint: install redocly
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && for version in v1 v2; do \
		$(BIN)/python manage.py spectacular --api-version $$version --format openapi-json \
			--file "$$out/$$version.json" || exit 1; \
	done && tools/node_modules/.bin/redocly lint --config redocly.yaml "$$out/v1.json" "$$out/v2.json"

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: export DEBUG ?= 1
run: install web
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --origin http://$(HOST):$(PORT)
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
lint: install-dev openapi-lint
	$(BIN)/python tools/locks.py check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy tasks project graph realtime bench tools
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check_schema

format: install-dev
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

bench: install-dev bench-deps
	$(BIN)/python -m bench

bench-quick: install-dev bench-deps
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache web/node_modules web/dist tools/node_modules
