"""Scale-out: GraphQL reads on 2 server processes against 1, on PostgreSQL + Redis."""

from __future__ import annotations

import statistics

from graphql_relay import to_global_id

from bench.http import GRAPHQL_QUERY
from bench.server import Server
from bench.wrk import run_wrk


def run_scaleout(project_id: int, token: str, *, repeats: int = 3, duration: int = 5) -> list[str]:
    variables = {"p": to_global_id("Project", project_id), "n": 10}
    body = {"query": GRAPHQL_QUERY, "variables": variables}
    headers = {"Authorization": f"Bearer {token}"}
    one: list[float] = []
    two: list[float] = []
    with Server(workers=1) as single, Server(workers=2) as double:
        for _ in range(repeats):
            for server, results in ((single, one), (double, two)):
                result = run_wrk(
                    url=server.url + "/graphql",
                    headers=headers,
                    json_body=body,
                    duration=duration,
                    connections=16,
                    threads=2,
                )
                results.append(result.rps)
    ratio = statistics.median(two) / statistics.median(one)
    line = (
        f"| Scale-out: GraphQL tasks(first: 10), 2 processes vs 1 | "
        f"{statistics.median(two):,.0f} req/s | 1 process: {statistics.median(one):,.0f} req/s"
        f" | {ratio:.2f}x | >= 1.7x |"
    )
    print(line, flush=True)
    return [
        "## Scale-out",
        "",
        "| workload | 2 processes | baseline | ratio | target |",
        "|---|---|---|---|---|",
        line,
        "",
        "Both servers and wrk share this machine's 2 cores, which caps what a second process"
        " can add.",
        "",
    ]
