"""What `Event.seq` costs the write path: a mutation's round trip with the per-project sequence
(the `ProjectLog` upsert in the change's transaction, tasks.events._next_seq) against the same
application served from `bench/seq_counter_asgi.py`, which takes the number from an
in-process counter (no SQL). Both servers run side by side; rounds interleave; the table gives
medians and the ratio.

The mutations go to a project created for this run, so the counter's numbers (not gap-free)
never mix with the seeded project's log."""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import httpx

from bench.server import SERVER_CPU, Server

ADD_COMMENT = (
    "mutation($t: ID!, $b: String!) { addComment(input: {taskId: $t, body: $b}) "
    "{ comment { id } errors { code } } }"
)


def _task(server: Server, headers: dict[str, str]) -> str:
    from graphql_relay import to_global_id

    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        project = http.post("/api/v1/projects/", json={"name": f"seq bench {uuid.uuid4().hex[:8]}"})
        project.raise_for_status()
        task = http.post(
            "/api/v1/tasks/", json={"project": project.json()["id"], "title": "seq bench"}
        )
        task.raise_for_status()
    return to_global_id("Task", task.json()["id"])


def _round(server: Server, headers: dict[str, str], task: str, count: int) -> list[float]:
    """`count` sequential mutations on one keep-alive connection; each round trip in ms."""
    times: list[float] = []
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        for n in range(count):
            body = {"query": ADD_COMMENT, "variables": {"t": task, "b": f"bench {n}"}}
            start = time.perf_counter()
            response = http.post("/graphql", json=body)
            times.append(1000 * (time.perf_counter() - start))
            answer: Any = response.json()
            if response.status_code != 200 or answer.get("errors"):
                raise RuntimeError(f"mutation failed: {response.text[:300]}")
    return times


def run(*, token: str, quick: bool) -> list[str]:
    repeats, count = (2, 50) if quick else (5, 200)
    headers = {"Authorization": f"Bearer {token}"}
    samples: dict[str, list[float]] = {"with seq": [], "without (counter)": []}
    with (
        Server(workers=1, cpu=SERVER_CPU) as with_seq,
        Server(workers=1, cpu=SERVER_CPU, app="bench.seq_counter_asgi:application") as without,
    ):
        task = _task(with_seq, headers)
        servers = {"with seq": with_seq, "without (counter)": without}
        for server in servers.values():
            _round(server, headers, task, 10)  # warm-up
        for _ in range(repeats):
            for label, server in servers.items():
                samples[label].append(statistics.median(_round(server, headers, task, count)))
    medians = {label: statistics.median(values) for label, values in samples.items()}
    ratio = medians["with seq"] / medians["without (counter)"]
    lines = [
        "## Cost of `Event.seq` on the write path",
        "",
        "| mutation `addComment`, round trip | median ms | min-max of round medians |",
        "|---|---|---|",
    ]
    for label, values in samples.items():
        lines.append(f"| {label} | {medians[label]:.2f} | {min(values):.2f}-{max(values):.2f} |")
    lines += [
        "",
        f"With / without: {ratio:.3f}. {repeats} interleaved rounds of {count} sequential "
        "mutations each, one keep-alive connection; `without` numbers events from an in-process "
        "counter instead of the `ProjectLog` upsert (bench only, `bench/seq_counter_asgi.py`).",
    ]
    print("\n".join(lines), flush=True)
    return lines
