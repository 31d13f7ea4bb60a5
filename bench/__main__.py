"""`make bench` / `make bench-quick`: every workload against a baseline measured in the same run.

Runs interleaved (baseline, candidate, baseline, candidate, ...) and reports medians, because these
machines are shared and noisy: only ratios measured side by side mean anything. Writes the table to
bench/RESULTS.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import env as bench_env
from bench.server import Server
from bench.wrk import WrkResult, run_wrk

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"

GRAPHQL_QUERY = (
    "query($p: ID!, $n: Int!) { tasks(projectId: $p, first: $n) { edges { node {"
    " id title status priority assignee { id username }"
    " comments(first: 5) { edges { node { id body author { id username } } } } } } } }"
)


class Row:
    def __init__(self, name: str, baseline: str, target: str) -> None:
        self.name = name
        self.baseline = baseline
        self.target = target
        self.base: list[WrkResult] = []
        self.cand: list[WrkResult] = []
        self.queries: str = "-"

    def ratio(self) -> float:
        base = statistics.median(r.rps for r in self.base)
        cand = statistics.median(r.rps for r in self.cand)
        return cand / base if base else 0.0

    def cells(self) -> list[str]:
        def summary(results: list[WrkResult]) -> str:
            rps = statistics.median(r.rps for r in results)
            p50 = statistics.median(r.p50_ms for r in results)
            p99 = statistics.median(r.p99_ms for r in results)
            return f"{rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"

        return [
            self.name,
            summary(self.cand),
            f"{self.baseline}: {summary(self.base)}",
            f"{self.ratio():.2f}x",
            self.target,
            self.queries,
        ]


def measure(
    row: Row,
    base_args: dict[str, object],
    cand_args: dict[str, object],
    repeats: int,
    duration: int,
) -> Row:
    for _ in range(repeats):
        row.base.append(run_wrk(duration=duration, **base_args))  # type: ignore[arg-type]
        row.cand.append(run_wrk(duration=duration, **cand_args))  # type: ignore[arg-type]
    print(" | ".join(row.cells()), flush=True)
    return row


def http_workloads(server: Server, project_id: int, token: str, *, quick: bool) -> list[Row]:
    from bench.queries import count_queries

    repeats, duration = (2, 2) if quick else (4, 5)
    auth = {"Authorization": f"Bearer {token}"}
    rows: list[Row] = []
    sizes = [50] if quick else [10, 50, 100]
    for n in sizes:
        gql_body = {"query": GRAPHQL_QUERY, "variables": {"p": _gid("Project", project_id), "n": n}}
        row = Row(
            f"GraphQL tasks(first: {n})",
            "values() view",
            ">= 0.33x at n=50" if n == 50 else "-",
        )
        base_path = f"/bench/tasks?project={project_id}&first={n}"
        row.queries = count_queries(
            [("GET", base_path, None, auth), ("POST", "/graphql", gql_body, auth)]
        )
        rows.append(
            measure(
                row,
                {"url": server.url + base_path, "headers": auth},
                {"url": server.url + "/graphql", "headers": auth, "json_body": gql_body},
                repeats,
                duration,
            )
        )
    for n in [50] if quick else [10, 50, 100]:
        base_path = f"/bench/tasks?project={project_id}&first={n}"
        rest_path = f"/api/v1/tasks/?project={project_id}&page_size={n}"
        for label, bust in (("cold", True), ("hit", False)):
            row = Row(
                f"REST tasks page_size={n}, cache {label}",
                "values() view",
                (">= 0.40x" if bust else ">= 0.90x") if n == 50 else "-",
            )
            row.queries = count_queries(
                [("GET", base_path, None, auth), ("GET", rest_path, None, auth)], bust_cache=bust
            )
            rows.append(
                measure(
                    row,
                    {"url": server.url + base_path, "headers": auth},
                    {"url": server.url + rest_path, "headers": auth, "cache_bust": bust},
                    repeats,
                    duration,
                )
            )
    return rows


def _gid(type_name: str, pk: int) -> str:
    from graphql_relay import to_global_id

    return to_global_id(type_name, pk)


def _machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip() + ", "
                break
    return (
        f"{model}{platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
        f" {platform.release()}, Python {platform.python_version()}"
    )


def write_results(rows: list[Row], extra_sections: list[str], *, quick: bool) -> None:
    """Writes this backend's section to bench/out/ and rebuilds RESULTS.md from the latest
    section of each backend, so one file shows the embedded default and PostgreSQL + Redis."""
    header = ["workload", "measured", "baseline (same run)", "ratio", "target", "SQL/request"]
    command = "make bench" if not quick else "make bench-quick"
    if bench_env.has_real_services():
        command = (
            "DATABASE_URL=postgres://USER@HOST:5432/DB REDIS_URL=redis://HOST:6379/N " + command
        )
    section = [
        f"## {bench_env.describe_backends()}",
        "",
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {'quick' if quick else 'full'} suite,"
        f" `{command}`.",
        f"Machine: {_machine()}.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    section += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    section += ["", *[_demote(line) for line in extra_sections]]
    key = "postgresql-redis" if bench_env.has_real_services() else "embedded"
    (bench_env.OUT / f"results-{key}.md").write_text("\n".join(section) + "\n")
    parts = [
        "# Benchmark results",
        "",
        "Reproduce: `make bench` (full, < 15 min) or `make bench-quick` (< 2 min) on the embedded"
        " default (SQLite, in-memory channel layer); with `DATABASE_URL` and `REDIS_URL` set the"
        " same commands run on PostgreSQL and Redis. See bench/README.md for what each workload"
        " measures.",
        "Every figure is a median over interleaved repeats (baseline, candidate, baseline, ...);"
        " HTTP ratios are candidate / baseline requests per second.",
        "",
    ]
    for name in ("embedded", "postgresql-redis"):
        path = bench_env.OUT / f"results-{name}.md"
        if path.exists():
            parts.append(path.read_text())
    RESULTS.write_text("\n".join(parts))
    print(f"\nWrote {RESULTS.relative_to(ROOT)}")


def _demote(line: str) -> str:
    """Sub-sections of a backend's section."""
    return "#" + line if line.startswith("## ") else line


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats (< 2 min)")
    parser.add_argument("--skip-realtime", action="store_true")
    args = parser.parse_args()

    bench_env.configure()
    project_id, token = bench_env.prepare_data()
    rows: list[Row] = []
    extra: list[str] = []
    with Server(workers=1) as server:
        rows += http_workloads(server, project_id, token, quick=args.quick)
    if not args.skip_realtime:
        try:
            from bench import fanout
        except ImportError:
            fanout = None  # type: ignore[assignment]
        if fanout is not None and hasattr(fanout, "run_for_suite"):
            extra += fanout.run_for_suite(project_id=project_id, token=token, quick=args.quick)
        from bench import subscriptions

        extra += subscriptions.run(project_id=project_id, token=token, quick=args.quick)
    if bench_env.has_real_services() and not args.quick:
        from bench.scaleout import run_scaleout

        extra += run_scaleout(project_id, token)
    write_results(rows, extra, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
