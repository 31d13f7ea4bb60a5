"""The ASGI entry freezes what it loaded out of the garbage collector (project/asgi.py): the
schema and the views are in the permanent generation, objects made later are collected as before,
and GC_FREEZE_AT_START=0 leaves everything to the collector. Each case is a fresh process that
imports the entry the way uvicorn does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json, weakref
import project.asgi
from graph.schema import schema
from graph.views import TaskHubGraphQLView
tracked = {id(o) for o in gc.get_objects()}
frozen = gc.get_freeze_count()
class Node:
    pass
a, b = Node(), Node()
a.other, b.other = b, a  # a reference cycle, made after start
ref = weakref.ref(a)
del a, b
alive_before_collect = ref() is not None
gc.collect()
print(json.dumps({
    "frozen": frozen,
    "schema_tracked": id(schema) in tracked,
    "view_tracked": id(TaskHubGraphQLView) in tracked,
    "cycle_collected": alive_before_collect and ref() is None,
}))
"""


def probe(freeze: str) -> dict[str, Any]:
    env = {**os.environ, "GC_FREEZE_AT_START": freeze}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_entry_freezes_what_it_loaded_and_later_cycles_are_still_collected() -> None:
    found = probe("1")
    # Modules, settings, URLconf, views and schema: tens of thousands of objects.
    assert found["frozen"] > 50_000
    assert found["schema_tracked"] is False
    assert found["view_tracked"] is False
    assert found["cycle_collected"] is True


def test_gc_freeze_at_start_off_leaves_everything_to_the_collector() -> None:
    found = probe("0")
    assert found["frozen"] == 0
    assert found["schema_tracked"] is True
    assert found["view_tracked"] is True
    assert found["cycle_collected"] is True
