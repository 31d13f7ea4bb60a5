"""Dependencies point one way (ARCHITECTURE.md): `graph/` never imports `realtime/`, not even
inside a function. The subscription's event source comes in from the transport instead."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from graphql import ExecutionResult, GraphQLError

from graph.operation import prepare, subscribe

GRAPH = Path(settings.BASE_DIR) / "graph"


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_no_module_of_graph_imports_realtime() -> None:
    offenders = {
        str(path.relative_to(GRAPH.parent)): sorted(
            name for name in _imported_modules(path) if name.split(".")[0] == "realtime"
        )
        for path in GRAPH.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


async def test_a_subscription_without_the_transports_event_source_is_refused(
    project: Any,
) -> None:
    prepared = prepare("subscription($p: ID!) { projectEvents(projectId: $p) { id } }", {"p": "1"})
    stream = await subscribe(prepared, None, {"user": None})
    assert not isinstance(stream, ExecutionResult)
    with pytest.raises(GraphQLError) as caught:
        await anext(stream)
    assert (caught.value.extensions or {}).get("code") == "BAD_USER_INPUT"
