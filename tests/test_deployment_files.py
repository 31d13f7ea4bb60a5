"""The deployment files stay consistent with the code (no Docker engine runs here to try them)."""

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY, generate_latest

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_the_whole_stack_from_the_image():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web1", "web2", "worker", "nginx"} <= set(services)
    assert services["worker"]["command"][:3] == ["celery", "-A", "project"]
    for name in ("web1", "web2", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")


def test_nginx_proxies_websockets_to_both_web_processes():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server web1:8000" in conf and "server web2:8000" in conf
    assert "proxy_set_header Upgrade $http_upgrade" in conf


def test_every_metric_on_the_dashboard_is_exported():
    import project.observability  # noqa: F401 - registers the metrics

    exported = generate_latest(REGISTRY).decode()
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "taskhub-dashboard.json").read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    names = {
        re.sub(r"_(bucket|total)$", "", name)
        for expr in expressions
        for name in re.findall(r"\b([a-z_]+_(?:total|bucket|connections))\b", expr)
    }
    assert names
    for name in names:
        assert f"# TYPE {name}" in exported, name


# --- The image: Dockerfile stages and the build context ------------------------------------------

TEST_AND_LINT_PACKAGES = ("pytest", "mypy", "ruff", "playwright", "schemathesis", "hypothesis")


def dockerfile_stages() -> dict[str, str]:
    """Stage name (the `AS` name, or the image) -> its instructions, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in lines:
        if line.startswith("FROM "):
            words = line.split()
            current = stages.setdefault(words[-1] if "AS" in words else words[1], [])
        current.append(line)
    return {name: "\n".join(body) for name, body in stages.items()}


def test_a_node_stage_builds_the_web_app_from_its_lock():
    web = dockerfile_stages()["web"]
    assert web.startswith("FROM node:20")
    assert "COPY web/package.json web/package-lock.json ./" in web
    assert re.search(r"^RUN npm ci\b", web, re.M)
    assert "npm install" not in web
    assert re.search(r"^RUN npm run build$", web, re.M)


def test_the_runtime_stage_installs_only_the_hashed_runtime_lock():
    runtime = dockerfile_stages()["runtime"]
    assert runtime.startswith("FROM python:3.13-slim AS runtime")
    installs = re.findall(r"^RUN pip install (.*)$", runtime, re.M)
    assert installs == ["--require-hashes -r requirements.txt"]
    assert "requirements-dev" not in runtime
    for package in TEST_AND_LINT_PACKAGES:
        assert not re.search(rf"\b{package}\b", runtime), package
    runtime_lock = (ROOT / "requirements.txt").read_text().lower()
    for package in TEST_AND_LINT_PACKAGES:
        assert not re.search(rf"^{package}==", runtime_lock, re.M), package


def test_the_runtime_stage_serves_the_web_app_built_by_the_node_stage():
    from django.conf import settings

    runtime = dockerfile_stages()["runtime"]
    copy = re.search(r"^COPY --from=web /web/dist (\S+)$", runtime, re.M)
    assert copy, runtime
    # Where project.settings looks for it (WEB_APP_DIST), relative to the image's /app.
    assert copy.group(1) == "/app/" + str(settings.WEB_APP_DIST.relative_to(settings.BASE_DIR))
    assert runtime.index(copy.group(0)) < runtime.index("collectstatic")


def test_the_runtime_stage_runs_as_a_non_root_user_after_collectstatic():
    runtime = dockerfile_stages()["runtime"]
    users = re.findall(r"^USER (\S+)$", runtime, re.M)
    assert users == ["app"]
    assert re.search(r"useradd .*--uid 1000 app", runtime)
    assert runtime.index("collectstatic") < runtime.index("USER app")


def test_the_python_of_the_image_is_the_one_the_makefile_prefers():
    find_python = (ROOT / "tools" / "find-python").read_text()
    preferred = re.search(r"for candidate in python(3\.\d+)", find_python).group(1)
    assert f"FROM python:{preferred}-slim" in dockerfile_stages()["runtime"]


def test_forwarded_headers_are_trusted_only_from_the_compose_proxy():
    import ipaddress

    runtime = dockerfile_stages()["runtime"]
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", runtime, re.M).group(1))
    assert "--proxy-headers" in cmd
    assert "--forwarded-allow-ips" not in cmd  # uvicorn reads FORWARDED_ALLOW_IPS itself
    image_default = re.search(r"FORWARDED_ALLOW_IPS=(\S+)", runtime).group(1)

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    nginx_ip = services["nginx"]["networks"]["default"]["ipv4_address"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert nginx_ip == "${NGINX_IP:-172.30.0.10}"
    assert subnet == "${COMPOSE_SUBNET:-172.30.0.0/24}"
    for name in ("web1", "web2"):
        assert services[name]["environment"]["FORWARDED_ALLOW_IPS"] == nginx_ip
    assert image_default == "172.30.0.10"
    assert ipaddress.ip_address(image_default) in ipaddress.ip_network("172.30.0.0/24")
    for path in ("Dockerfile", "docker-compose.yml", "Makefile", "README.md"):
        text = (ROOT / path).read_text()
        assert not re.search(r"forwarded-allow-ips\W+\*", text, re.I), path
        assert not re.search(r"FORWARDED_ALLOW_IPS\W+\*", text), path


def dockerignored(path: str) -> bool:
    """Docker's rule, for the patterns .dockerignore uses: a pattern excludes a path that matches
    it, and everything under a directory that matches it."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not [p for p in patterns if p.startswith("!")], "no re-inclusions expected"

    def regex(pattern: str) -> str:
        out = ""
        for token in re.split(r"(\*\*/|\*|\?)", pattern.strip("/")):
            out += {"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
        return out

    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(re.fullmatch(regex(p), prefix) for p in patterns for prefix in prefixes)


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        "venv/bin/python",
        "web/node_modules/react/index.js",
        "tools/node_modules/@redocly/cli/package.json",
        "web/dist/index.html",
        "db.sqlite3",
        "db.sqlite3-wal",
        "db.sqlite3-shm",
        "other.sqlite3",
        "media/attachments/1/report.pdf",
        "staticfiles/app/index.js",
        ".env",
        ".env.production",
        "tasks/__pycache__/models.cpython-313.pyc",
        ".mypy_cache/3.13/x.json",
        ".ruff_cache/CACHEDIR.TAG",
        ".pytest_cache/README.md",
        "web/screenshots/board.png",
        "bench/out/results.json",
    ],
)
def test_local_state_stays_out_of_the_build_context(path):
    assert dockerignored(path)


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "requirements.txt",
        "pyproject.toml",
        "project/settings.py",
        "tasks/models.py",
        "graph/templates/graph/graphiql.html",
        "web/package.json",
        "web/package-lock.json",
        "web/src/main.tsx",
        "web/index.html",
    ],
)
def test_the_source_the_image_needs_is_in_the_build_context(path):
    assert (ROOT / path).exists(), path
    assert not dockerignored(path)
