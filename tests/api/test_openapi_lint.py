"""The OpenAPI documents pass Redocly's `recommended` rules (redocly.yaml): every operation has a
summary, the document names its server, and a nullable reference keeps its type. The same
documents `make lint` generates with `manage.py spectacular` are the ones /api/schema/ serves."""

from __future__ import annotations

import json
import os
import subprocess
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
REDOCLY = ROOT / "tools" / "node_modules" / ".bin" / "redocly"
SERVED = {"v1": "/api/schema/?format=json", "v2": "/api/schema/?format=json&version=v2"}


def served(client: Any, version: str) -> dict[str, Any]:
    response = client.get(SERVED[version])
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for ops in document["paths"].values() for op in ops.values()]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_operation_has_a_one_line_summary(client: Any, version: str) -> None:
    ops = operations(served(client, version))
    # v2 also has delta sync (`projects/{id}/changes/` and `changes/head/`).
    assert len(ops) == (37 if version == "v2" else 35)
    summaries = [op.get("summary", "") for op in ops]
    assert all(summary and "\n" not in summary for summary in summaries), summaries
    assert len(set(summaries)) == len(summaries)
    assert {op["operationId"] for op in ops if op["summary"] == "Get a task"} == {
        f"{version}_tasks_retrieve"
    }


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_document_names_its_server_and_types_every_nullable(client: Any, version: str):
    document = served(client, version)
    assert document["servers"] == [{"url": "/", "description": "This server"}]

    untyped: list[Any] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("nullable") and "type" not in node:
                untyped.append(node)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(document)
    assert untyped == []
    schemas = document["components"]["schemas"]
    assert schemas["User"]["type"] == "object"
    if version == "v2":
        created_by = schemas["TaskV2"]["properties"]["created_by"]
        assert created_by["type"] == "object" and created_by["nullable"] is True


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_make_lint_lints_the_served_documents(client: Any, version: str, tmp_path: Path):
    out = tmp_path / f"{version}.json"
    call_command(
        "spectacular", api_version=version, format="openapi-json", file=str(out), stdout=StringIO()
    )
    assert json.loads(out.read_text()) == served(client, version)


def test_redocly_recommended_passes_for_both_versions(client: Any, tmp_path: Path) -> None:
    assert REDOCLY.exists(), "install Redocly CLI first: make redocly"
    files = []
    for version in ("v1", "v2"):
        path = tmp_path / f"{version}.json"
        path.write_text(json.dumps(served(client, version)))
        files.append(str(path))
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    result = subprocess.run(
        [
            str(REDOCLY),
            "lint",
            "--config",
            str(ROOT / "redocly.yaml"),
            "--format",
            "summary",
            *files,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout + result.stderr


def test_every_rule_turned_off_says_why() -> None:
    lines = (ROOT / "redocly.yaml").read_text().splitlines()
    for index, line in enumerate(lines):
        if line.strip().endswith(": off"):
            assert lines[index - 1].strip().startswith("#"), line
    assert "  - recommended" in lines
