"""The HTTP workloads: TaskHub against the peers of bench/peers/, every endpoint in the same run.

TaskHub and the peers' site each run as one uvicorn worker pinned to core 0; wrk runs on core 1.
Repeats are interleaved (floor, peer, ..., TaskHub, floor, ...) so drift hits every endpoint
alike; the table gives medians with min-max, and the server's CPU time per request read from
/proc. Before anything is timed, every endpoint of a workload must answer the same JSON."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.server import LOAD_CPU, Server
from bench.wrk import WrkResult, run_wrk

GRAPHQL_QUERY = (
    "query($p: ID!, $n: Int!) { tasks(projectId: $p, first: $n) { edges { node {"
    " id title status priority assignee { id username }"
    " comments(first: 5) { edges { node { id body author { id username } } } } } } } }"
)
AUTH_PROBE = "{ viewer { id } }"


@dataclass
class Endpoint:
    label: str
    server: Server
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: object | None = None
    cache_bust: bool = False
    runs: list[WrkResult] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)

    def fetch(self) -> Any:
        url = self.server.url + self.path
        if self.body is None:
            response = httpx.get(url, headers=self.headers, timeout=30)
        else:
            response = httpx.post(url, json=self.body, headers=self.headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def measure(self, duration: int) -> None:
        before = self.server.cpu_seconds()
        result = run_wrk(
            url=self.server.url + self.path,
            headers=self.headers,
            json_body=self.body,
            cache_bust=self.cache_bust,
            duration=duration,
            cpu=LOAD_CPU,
        )
        spent = self.server.cpu_seconds() - before
        self.runs.append(result)
        self.cpu_ms.append(1000 * spent / max(result.requests, 1))

    @property
    def rps(self) -> float:
        return statistics.median(run.rps for run in self.runs)

    def summary(self) -> str:
        low, high = min(r.rps for r in self.runs), max(r.rps for r in self.runs)
        p99 = statistics.median(r.p99_ms for r in self.runs)
        cpu = statistics.median(self.cpu_ms)
        return (
            f"{self.rps:,.0f} req/s ({low:,.0f}-{high:,.0f}), p99 {p99:.1f} ms,"
            f" {cpu:.2f} ms CPU/req"
        )


@dataclass
class Workload:
    name: str
    endpoints: list[Endpoint]
    targets: dict[str, str]
    compare: tuple[str, str] | None = None  # (candidate, peer): an extra "candidate / peer" cell
    same_data: str = "data"  # the JSON key every endpoint must agree on before timing

    def check(self) -> None:
        answers = {e.label: _comparable(e.fetch(), self.same_data) for e in self.endpoints}
        reference = answers[self.endpoints[0].label]
        for label, answer in answers.items():
            if answer != reference:
                raise SystemExit(f"{self.name}: {label} does not answer what the others answer")

    def run(self, repeats: int, duration: int) -> None:
        self.check()
        servers = list({id(e.server): e.server for e in self.endpoints}.values())
        for _ in range(repeats):
            for endpoint in self.endpoints:
                # Every server on the core idle first: the last endpoint's leftover requests
                # must not run during (and count towards) this one's measurement.
                for server in servers:
                    server.wait_idle()
                endpoint.measure(duration)

    def rows(self) -> list[list[str]]:
        floor = self.endpoints[0]
        rows = []
        for endpoint in self.endpoints:
            ratio = endpoint.rps / floor.rps if floor.rps else 0.0
            rows.append([
                self.name if endpoint is floor else "",
                endpoint.label,
                endpoint.summary(),
                f"{ratio:.2f}x",
                self.targets.get(endpoint.label, ""),
            ])  # fmt: skip
        if self.compare:
            by_label = {e.label: e for e in self.endpoints}
            candidate, peer = (by_label[label] for label in self.compare)
            rows.append([
                "", f"{candidate.label} / {peer.label}", "",
                f"{candidate.rps / peer.rps:.2f}x", self.targets.get("compare", ""),
            ])  # fmt: skip
        return rows


def _comparable(answer: Any, key: str) -> str:
    return json.dumps(answer.get(key), sort_keys=True)


def workloads(
    taskhub: Server, peers: Server, project_id: int, project_gid: str, token: str, *, quick: bool
) -> list[Workload]:
    auth = {"Authorization": f"Bearer {token}"}
    result: list[Workload] = []
    # TaskHub caps `first` at 100 (API.md), so the largest page is 100.
    graphql_targets = {10: (">= 0.40", ">= 1.3x"), 50: (">= 0.25", ">= 1.3x"),
                       100: (">= 0.15 (n=200 in the issue)", ">= 1.3x")}  # fmt: skip
    for n in [50] if quick else [10, 50, 100]:
        body = {"query": GRAPHQL_QUERY, "variables": {"p": project_gid, "n": n}}
        result.append(
            Workload(
                f"GraphQL tasks(first: {n}) + assignee + 5 comments + authors",
                [
                    Endpoint(
                        "plain Django",
                        peers,
                        f"/plain/graphql-tasks?project={project_id}&first={n}",
                    ),
                    Endpoint("graphene-django", peers, "/graphene/graphql", body=body),
                    Endpoint("strawberry-django", peers, "/strawberry/graphql", body=body),
                    Endpoint("TaskHub", taskhub, "/graphql", auth, body),
                ],
                {"TaskHub": graphql_targets[n][0], "compare": graphql_targets[n][1]},
                compare=("TaskHub", "graphene-django"),
            )
        )
    n = 50
    for label, bust in (("miss", True), ("hit", False)):
        result.append(
            Workload(
                f"REST task list page_size={n}, response cache {label}",
                [
                    Endpoint(
                        "plain Django",
                        peers,
                        f"/plain/rest-tasks?project={project_id}&page_size={n}",
                    ),
                    Endpoint("DRF", peers, f"/drf/tasks?project={project_id}&page_size={n}"),
                    Endpoint(
                        "TaskHub",
                        taskhub,
                        f"/api/v1/tasks/?project={project_id}&page_size={n}",
                        auth,
                        cache_bust=bust,
                    ),
                ],
                {"TaskHub": ">= 0.50" if bust else ">= 0.90"},
                same_data="results",
            )
        )
    result.append(
        Workload(
            "Bearer-authenticated request vs the same view anonymous",
            [
                Endpoint("anonymous", taskhub, "/graphql", body={"query": "{ __typename }"}),
                Endpoint("bearer token", taskhub, "/graphql", auth, {"query": "{ __typename }"}),
            ],
            {"bearer token": ">= 0.90"},
        )
    )
    return result


def table(results: list[Workload]) -> list[str]:
    header = ["workload", "endpoint", "measured (median, min-max)", "vs first row", "target"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for workload in results:
        lines += ["| " + " | ".join(row) + " |" for row in workload.rows()]
    return lines
