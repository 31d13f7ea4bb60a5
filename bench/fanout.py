"""Realtime fan-out: 1,000 subscribers on one project, one change, time until the last delivery.

Candidate: the product (uvicorn + Channels, JSON sockets on `/ws/projects/<id>/`); the change is a
`comment.create` on a task socket, so it goes through the service, the database, the channel
layer and the process hub. Baseline, measured in the same run: a bare `websockets` server that
broadcasts the very same frame to its 1,000 clients when told to. Interleaved A/B, medians.

`python -m bench.fanout [--quick] [--subscribers N] [--changes N]` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parent.parent

BASELINE_SERVER = """
import asyncio, sys
from websockets.asyncio.server import broadcast, serve

clients = set()

async def handler(ws):
    if ws.request.path == "/control":
        async for payload in ws:
            broadcast(clients, payload)
        return
    clients.add(ws)
    try:
        await ws.wait_closed()
    finally:
        clients.discard(ws)

async def main():
    async with serve(
        handler, "127.0.0.1", int(sys.argv[1]), max_size=2**20, ping_interval=None,
        compression=None,
    ):
        print("ready", flush=True)
        await asyncio.Future()

asyncio.run(main())
"""


class Subscribers:
    """N client sockets; `wait(n)` resolves when each has received one more message."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.sockets: list[Any] = []
        self.received: list[float] = []
        self.expected = 0
        self.done: asyncio.Event = asyncio.Event()
        self.readers: list[asyncio.Task[None]] = []

    async def connect(self, url: str, headers: dict[str, str], ready_type: str | None) -> None:
        async def one() -> None:
            ws = await websockets.connect(
                url,
                additional_headers=headers,
                open_timeout=60,
                max_size=2**20,
                ping_interval=None,
                compression=None,
            )
            if ready_type is not None:
                assert json.loads(await ws.recv())["type"] == ready_type
            self.sockets.append(ws)

        for start in range(0, self.count, 100):  # in waves, like real reconnect storms are not
            await asyncio.gather(*(one() for _ in range(start, min(self.count, start + 100))))
        self.readers = [asyncio.ensure_future(self._read(ws)) for ws in self.sockets]

    async def _read(self, ws: Any) -> None:
        async for _message in ws:
            self.received.append(time.perf_counter())
            if len(self.received) >= self.expected:
                self.done.set()

    def arm(self) -> None:
        self.received.clear()
        self.expected = self.count
        self.done.clear()

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


async def _measure(subscribers: Subscribers, trigger: Any) -> float:
    subscribers.arm()
    started = time.perf_counter()
    await trigger()
    await asyncio.wait_for(subscribers.done.wait(), 60)
    return max(subscribers.received) - started


# Changes timed per fan-out workload. A p99 needs about a hundred samples to be one: of 20 it is
# the largest, and a single outlier on either side decided the p99 ratio (one baseline change of
# 236 ms against a p50 of 20 made it 0.19x; one of TaskHub's made it 1.83x). 100 take ~10 s.
CHANGES = 100
QUICK_CHANGES = 5


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _run(
    server: Any,
    baseline_port: int,
    project_id: int,
    task_id: int,
    token: str,
    n: int,
    changes: int,
) -> dict[str, list[float]]:
    auth = {"Authorization": f"Bearer {token}"}
    candidate = Subscribers(n)
    baseline = Subscribers(n)
    server_ws_url = server.ws_url
    await candidate.connect(f"{server_ws_url}/ws/projects/{project_id}/", auth, "ready")
    await baseline.connect(f"ws://127.0.0.1:{baseline_port}/feed", {}, None)
    writer = await websockets.connect(
        f"{server_ws_url}/ws/tasks/{task_id}/", additional_headers=auth
    )
    assert json.loads(await writer.recv())["type"] == "ready"
    control = await websockets.connect(f"ws://127.0.0.1:{baseline_port}/control")
    frame: dict[str, str] = {}
    counter = 0

    async def change() -> None:
        nonlocal counter
        counter += 1
        await writer.send(json.dumps({"type": "comment.create", "body": f"fan-out {counter}"}))

    async def broadcast() -> None:
        await control.send(frame["text"])

    # Warm up, and capture the product's frame so the baseline broadcasts the same bytes.
    await change()
    while "text" not in frame:
        text = str(await asyncio.wait_for(writer.recv(), 30))
        if json.loads(text)["type"] == "event":
            frame["text"] = text
    await asyncio.sleep(0.5)
    await _measure(baseline, broadcast)

    results: dict[str, list[float]] = {"candidate": [], "baseline": [], "cpu": []}
    for _ in range(changes):
        results["baseline"].append(await _measure(baseline, broadcast))
        cpu = server.cpu_seconds()
        results["candidate"].append(await _measure(candidate, change))
        # Server CPU for the change and its n deliveries (less noise-sensitive than wall time).
        results["cpu"].append(server.cpu_seconds() - cpu)
        while True:  # drain the writer's own ack and event
            try:
                await asyncio.wait_for(writer.recv(), 0.05)
            except TimeoutError:
                break
    await writer.close()
    await control.close()
    await candidate.close()
    await baseline.close()
    return results


def _start_baseline() -> tuple[subprocess.Popen[str], int]:
    from bench.server import SERVER_CPU, _free_port, pinned

    port = _free_port()
    process = subprocess.Popen(
        pinned([sys.executable, "-c", BASELINE_SERVER, str(port)], SERVER_CPU),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("the baseline server did not start")
    return process, port


def measure(*, project_id: int, token: str, subscribers: int, changes: int) -> list[str]:
    from bench.server import SERVER_CPU, Server
    from tasks.models import Task

    task_id = Task.objects.filter(project_id=project_id).values_list("pk", flat=True).first()
    if task_id is None:
        raise RuntimeError("the seeded project has no task")
    baseline, port = _start_baseline()
    try:
        with Server(workers=1, cpu=SERVER_CPU) as server:
            results = asyncio.run(
                _run(server, port, project_id, task_id, token, subscribers, changes)
            )
    finally:
        baseline.terminate()
        baseline.wait(timeout=10)

    def row(name: str, times: list[float]) -> str:
        p50 = statistics.median(times)
        return (
            f"| {name} | {p50 * 1000:.1f} ms | {_percentile(times, 0.99) * 1000:.1f} ms"
            f" | {subscribers / p50:,.0f} |"
        )

    ratio = statistics.median(results["baseline"]) / statistics.median(results["candidate"])
    cpu_per_1000 = statistics.median(results["cpu"]) * 1000 / subscribers * 1000
    p99_ratio = _percentile(results["candidate"], 0.99) / _percentile(results["baseline"], 0.99)
    lines = [
        "## Realtime fan-out",
        "",
        f"{subscribers} subscribers on one project, one change, time until the last delivery;"
        f" {changes} changes, interleaved with the baseline; medians.",
        "",
        "| server | p50 to last delivery | p99 | deliveries/s (p50) |",
        "|---|---|---|---|",
        row("product (comment.create -> 1,000 JSON sockets)", results["candidate"]),
        row("baseline (bare `websockets` broadcast)", results["baseline"]),
        "",
        f"Deliveries/s ratio, product / baseline: {ratio:.2f}x (target >= 0.70x);"
        f" p99 {p99_ratio:.2f}x the baseline's (target <= 1.5x). Neither side negotiates"
        " permessage-deflate. Server CPU per 1,000 deliveries (median, from /proc):"
        f" {cpu_per_1000:.0f} ms.",
        "",
    ]
    print("\n".join(lines), flush=True)
    return lines


def run_for_suite(*, project_id: int, token: str, quick: bool) -> list[str]:
    return measure(
        project_id=project_id,
        token=token,
        subscribers=1000,
        changes=QUICK_CHANGES if quick else CHANGES,
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=0)
    args = parser.parse_args()
    os.chdir(ROOT)
    from bench import env as bench_env
    from bench.server import LOAD_CPU, pin_self

    pin_self(LOAD_CPU)  # as `python -m bench` does: the clients off the server's core

    bench_env.configure()
    project_id, token = bench_env.prepare_data()
    changes = args.changes or (QUICK_CHANGES if args.quick else CHANGES)
    measure(project_id=project_id, token=token, subscribers=args.subscribers, changes=changes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
