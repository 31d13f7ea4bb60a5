"""`make bench` / `make bench-quick`: every workload against a baseline measured in the same run.

Runs interleaved (baseline, candidate, baseline, candidate, ...) and reports medians, because these
machines are shared and noisy: only ratios measured side by side mean anything. Writes the table to
bench/RESULTS.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import env as bench_env
from bench import http
from bench.server import LOAD_CPU, SERVER_CPU, Server, pin_self

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"


def http_section(project_id: int, token: str, *, quick: bool) -> list[str]:
    from bench.queries import count_queries

    # Quick: the same rows and checks, 1 s per run (wrk's shortest), to stay under 2 minutes.
    repeats, duration = (2, 1) if quick else (3, 5)
    project_gid = _gid("Project", project_id)
    peers_env = {"DJANGO_SETTINGS_MODULE": "bench.peers.settings"}
    with (
        Server(workers=1, cpu=SERVER_CPU) as taskhub,
        Server(
            workers=1, cpu=SERVER_CPU, app="bench.peers.asgi:application", env=peers_env
        ) as peers,
    ):
        results = http.workloads(taskhub, peers, project_id, project_gid, token, quick=quick)
        for workload in results:
            workload.run(repeats, duration)
            print("\n".join(http.table([workload])[2:]), flush=True)
    auth = {"Authorization": f"Bearer {token}"}
    sizes = [50] if quick else [10, 50, 100]
    queries = [
        f"GraphQL n={n}: "
        + count_queries(
            [
                (
                    "POST",
                    "/graphql",
                    {"query": http.GRAPHQL_QUERY, "variables": {"p": project_gid, "n": n}},
                    auth,
                )
            ]
        )
        for n in sizes
    ]
    rest = f"/api/v1/tasks/?project={project_id}&page_size=50"
    queries.append("REST miss: " + count_queries([("GET", rest, None, auth)], bust_cache=True))
    queries.append("REST hit: " + count_queries([("GET", rest, None, auth)]))
    return [
        *http.table(results),
        "",
        f"Server and load generator pinned to different cores (taskset {SERVER_CPU} / {LOAD_CPU}),"
        f" {repeats} interleaved repeats of {duration} s each, wrk 1 thread 8 connections.",
        "TaskHub SQL queries per request (counted in-process): " + "; ".join(queries) + ".",
    ]


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


def write_results(http_lines: list[str], extra_sections: list[str], *, quick: bool) -> None:
    """Writes this backend's section to bench/out/ and rebuilds RESULTS.md from the latest
    section of each backend, so one file shows the embedded default and PostgreSQL + Redis."""
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
        *http_lines,
    ]
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
        "Every figure is a median over interleaved repeats (floor, peers, TaskHub, floor, ...);"
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
    extra: list[str] = []
    http_lines = http_section(project_id, token, quick=args.quick)
    if not args.skip_realtime:
        pin_self(LOAD_CPU)  # the clients; every server is pinned to SERVER_CPU
        try:
            from bench import fanout
        except ImportError:
            fanout = None  # type: ignore[assignment]
        if fanout is not None and hasattr(fanout, "run_for_suite"):
            extra += fanout.run_for_suite(project_id=project_id, token=token, quick=args.quick)
        from bench import subscriptions

        extra += subscriptions.run(project_id=project_id, token=token, quick=args.quick)
    if not args.quick:
        from bench import seqcost

        extra += seqcost.run(token=token, quick=False)
    if bench_env.has_real_services() and not args.quick:
        from bench.scaleout import run_scaleout

        extra += run_scaleout(project_id, token)
    write_results(http_lines, extra, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
