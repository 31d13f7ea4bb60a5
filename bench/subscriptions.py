"""GraphQL subscriptions (graphql-transport-ws) under load, each against a same-run baseline.

- Fan-out: 1,000 `projectEvents` subscribers, one `updateTask` mutation over HTTP, time until the
  last `next` arrives; baseline: a bare `websockets` server broadcasting the same frame to 1,000
  clients (bench/fanout.py's), interleaved.
- Mutation to one subscriber: `updateTask` sent over HTTP, time until the subscriber's `next`
  arrives; baseline: the HTTP round trip of the same mutation with no subscriber, interleaved.
- Memory: the server's RSS before and after 1,000 idle subscribed sockets.

`python -m bench.subscriptions [--quick]` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
SUBPROTOCOL = "graphql-transport-ws"
SUBSCRIPTION = "subscription($p: ID!) { projectEvents(projectId: $p) { id type data createdAt } }"
MUTATION = (
    "mutation($id: ID!, $title: String!) { updateTask(input: {id: $id, title: $title})"
    " { task { id version } errors { code } } }"
)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


class GraphQLSubscribers:
    """N graphql-transport-ws sockets subscribed to one project's events."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.sockets: list[Any] = []
        self.received: list[float] = []
        self.expected = 0
        self.done = asyncio.Event()
        self.readers: list[asyncio.Task[None]] = []
        self.last = ""

    async def connect(self, url: str, token: str, project_gid: str) -> None:
        async def one() -> None:
            ws = await websockets.connect(
                url,
                subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
                open_timeout=60,
                max_size=2**20,
                ping_interval=None,
                compression=None,
            )
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
                )
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIPTION, "variables": {"p": project_gid}},
                    }
                )
            )
            self.sockets.append(ws)

        for start in range(0, self.count, 100):
            await asyncio.gather(*(one() for _ in range(start, min(self.count, start + 100))))
        self.readers = [asyncio.ensure_future(self._read(ws)) for ws in self.sockets]

    async def _read(self, ws: Any) -> None:
        async for message in ws:
            if '"next"' in message:
                self.received.append(time.perf_counter())
                self.last = message
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


class Mutator:
    """`updateTask` over one keep-alive HTTP connection."""

    def __init__(self, url: str, token: str, task_gid: str) -> None:
        self.client = httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        self.task_gid = task_gid
        self.counter = 0
        self.round_trips: list[float] = []

    async def send(self) -> float:
        """Sends one change; returns when it was sent (the response is awaited too)."""
        self.counter += 1
        body = {"query": MUTATION, "variables": {"id": self.task_gid, "title": f"t{self.counter}"}}
        started = time.perf_counter()
        response = await self.client.post("/graphql", json=body)
        payload = response.json()
        if (
            response.status_code != 200
            or payload.get("errors")
            or not payload["data"]["updateTask"]["task"]
        ):
            raise RuntimeError(f"updateTask failed: {response.status_code} {payload}")
        self.round_trips.append(time.perf_counter() - started)
        return started

    async def round_trip(self) -> float:
        started = time.perf_counter()
        await self.send()
        return time.perf_counter() - started

    async def close(self) -> None:
        await self.client.aclose()


async def _fanout(
    server: Any,
    baseline_port: int,
    token: str,
    project_gid: str,
    task_gid: str,
    n: int,
    changes: int,
) -> dict[str, list[float]]:
    from bench.fanout import Subscribers

    candidate = GraphQLSubscribers(n)
    baseline = Subscribers(n)
    await candidate.connect(f"{server.ws_url}/graphql", token, project_gid)
    await baseline.connect(f"ws://127.0.0.1:{baseline_port}/feed", {}, None)
    control = await websockets.connect(f"ws://127.0.0.1:{baseline_port}/control")
    mutator = Mutator(server.url, token, task_gid)
    frame: dict[str, str] = {}

    async def change() -> float:
        return await mutator.send()

    async def broadcast() -> float:
        started = time.perf_counter()
        await control.send(frame["text"])
        return started

    async def measure(subscribers: Any, trigger: Any) -> float:
        subscribers.arm()
        started = await trigger()
        await asyncio.wait_for(subscribers.done.wait(), 60)
        return float(max(subscribers.received) - started)

    # Warm up (every subscriber is live once it got one event), and copy a real frame so the
    # baseline broadcasts the very same bytes.
    await asyncio.sleep(1)
    await measure(candidate, change)
    frame["text"] = candidate.last
    await measure(baseline, broadcast)

    results: dict[str, list[float]] = {"candidate": [], "baseline": [], "cpu": []}
    mutator.round_trips.clear()
    for _ in range(changes):
        results["baseline"].append(await measure(baseline, broadcast))
        cpu = server.cpu_seconds()
        results["candidate"].append(await measure(candidate, change))
        # Server CPU for the change and its n deliveries: far less noise-sensitive on a shared
        # machine than wall time.
        results["cpu"].append(server.cpu_seconds() - cpu)
    # The writer's own answer while its project has n subscribers (issue 19: it must not wait
    # for the fan-out).
    results["write_round_trip"] = list(mutator.round_trips)
    await mutator.close()
    await control.close()
    await candidate.close()
    await baseline.close()
    return results


async def _one_subscriber(
    server: Any, token: str, project_gid: str, task_gid: str, samples: int
) -> dict[str, list[float]]:
    subscriber = GraphQLSubscribers(1)
    await subscriber.connect(f"{server.ws_url}/graphql", token, project_gid)
    mutator = Mutator(server.url, token, task_gid)
    await asyncio.sleep(0.5)
    for _ in range(5):  # warm up both paths
        subscriber.arm()
        await mutator.send()
        await asyncio.wait_for(subscriber.done.wait(), 30)
    results: dict[str, list[float]] = {"candidate": [], "baseline": []}
    for _ in range(samples):
        # Baseline: the mutation's own round trip, with nobody listening for its event.
        await subscriber.close()
        await asyncio.sleep(0.2)
        results["baseline"].append(await mutator.round_trip())
        subscriber = GraphQLSubscribers(1)
        await subscriber.connect(f"{server.ws_url}/graphql", token, project_gid)
        await asyncio.sleep(0.2)
        subscriber.arm()
        started = await mutator.send()
        await asyncio.wait_for(subscriber.done.wait(), 30)
        results["candidate"].append(subscriber.received[0] - started)
    await subscriber.close()
    await mutator.close()
    return results


async def _memory(server: Any, token: str, project_gid: str, n: int) -> tuple[int, int]:
    await asyncio.sleep(1)
    before = _rss_kb(server.pids())
    subscribers = GraphQLSubscribers(n)
    await subscribers.connect(f"{server.ws_url}/graphql", token, project_gid)
    await asyncio.sleep(3)  # every subscription joined, nothing in flight
    after = _rss_kb(server.pids())
    await subscribers.close()
    return before, after


def run(*, project_id: int, token: str, quick: bool) -> list[str]:
    from graphql_relay import to_global_id

    from bench.fanout import CHANGES, QUICK_CHANGES, _start_baseline
    from bench.server import SERVER_CPU, Server
    from tasks.models import Task

    task_id = Task.objects.filter(project_id=project_id).values_list("pk", flat=True).first()
    if task_id is None:
        raise RuntimeError("the seeded project has no task")
    project_gid, task_gid = to_global_id("Project", project_id), to_global_id("Task", task_id)
    n, changes, samples = 1000, (QUICK_CHANGES if quick else CHANGES), (10 if quick else 60)

    # Memory first, on a fresh server: 1,000 idle subscribed sockets.
    with Server(workers=1, cpu=SERVER_CPU) as server:
        httpx.get(f"{server.url}/healthz")
        before, after = asyncio.run(_memory(server, token, project_gid, n))
    added_mb = (after - before) / 1024

    baseline_process, port = _start_baseline()
    try:
        with Server(workers=1, cpu=SERVER_CPU) as server:
            fanout = asyncio.run(_fanout(server, port, token, project_gid, task_gid, n, changes))
            single = asyncio.run(_one_subscriber(server, token, project_gid, task_gid, samples))
    finally:
        baseline_process.terminate()
        baseline_process.wait(timeout=10)

    def cells(times: list[float], per: int) -> str:
        p50 = statistics.median(times)
        p99 = _percentile(times, 0.99)
        rate = f", {per / p50:,.0f} deliveries/s" if per > 1 else ""
        return f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms{rate}"

    fan_ratio = statistics.median(fanout["baseline"]) / statistics.median(fanout["candidate"])
    fan_p99 = _percentile(fanout["candidate"], 0.99) / _percentile(fanout["baseline"], 0.99)
    one_p99 = _percentile(single["candidate"], 0.99) / _percentile(single["baseline"], 0.99)
    cpu_per_1000 = statistics.median(fanout["cpu"]) * 1000 / n * 1000  # ms per 1,000 deliveries
    busy_write = statistics.median(fanout["write_round_trip"])
    idle_write = statistics.median(single["baseline"])
    lines = [
        "## GraphQL subscriptions (graphql-transport-ws)",
        "",
        "| workload | measured | baseline (same run) | ratio | target |",
        "|---|---|---|---|---|",
        f"| Fan-out: updateTask -> {n} `projectEvents` subscribers, change to last delivery"
        f" ({changes} changes) | {cells(fanout['candidate'], n)}"
        f" | bare `websockets` broadcast of the same frame: {cells(fanout['baseline'], n)}"
        f" | deliveries/s {fan_ratio:.2f}x; p99 {fan_p99:.2f}x the baseline's"
        " | deliveries/s >= 0.70x; p99 <= 1.5x |",
        f"| Fan-out: server CPU per 1,000 deliveries (from /proc) | {cpu_per_1000:.0f} ms | | | |",
        f"| Write round trip (updateTask over HTTP) with {n} subscribers on its project"
        f" | {cells(fanout['write_round_trip'], 1)}"
        f" | the same mutation with no subscriber: {cells(single['baseline'], 1)}"
        f" | p50 {busy_write / idle_write:.2f}x | <= 1.2x |",
        f"| Mutation to one subscriber, change to delivery ({samples} samples)"
        f" | {cells(single['candidate'], 1)}"
        f" | HTTP round trip of the same mutation, no subscriber: {cells(single['baseline'], 1)}"
        f" | p99 {one_p99:.2f}x | p99 <= 1.5x |",
        f"| Memory: {n} idle subscribed sockets | RSS {before / 1024:.0f} MB -> {after / 1024:.0f}"
        f" MB | the RSS before connecting | {added_mb:.1f} MB added | <= 30 MB |",
        "",
    ]
    print("\n".join(lines), flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.subscriptions")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.chdir(ROOT)
    from bench import env as bench_env
    from bench.server import LOAD_CPU, pin_self

    pin_self(LOAD_CPU)  # as `python -m bench` does: the clients off the server's core

    bench_env.configure()
    project_id, token = bench_env.prepare_data()
    run(project_id=project_id, token=token, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
