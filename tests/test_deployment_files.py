"""The deployment files stay consistent with the code (no Docker engine runs here to try them)."""

import json
import re
from pathlib import Path

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
