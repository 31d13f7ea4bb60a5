"""CPU time per request, measured in-process: what `make bench`'s HTTP rows cost the server in
Python, without the socket, uvicorn or the load generator, and without the noise of a shared
machine (process time counts only this process's own work, whoever else runs).

    python -m bench.profile                  # TaskHub and the peers, every workload, a table
    python -m bench.profile --site taskhub --only graphql-50 --profile out.html

Each workload is warmed up, then `--iterations` requests are timed one by one with
`time.process_time()` (only the request: cache busting and the client's own setup are outside);
the figure is the median of `--rounds` rounds. Requests go through Django's test client, i.e. the
whole middleware stack and the same views as under uvicorn, minus the ASGI adapter. The peers'
site (bench.peers.settings) runs in a subprocess of its own on the same database. bench/PROFILES.md
records what the profiles showed.

Process time includes system time, and this process takes far more page faults per request than a
uvicorn worker does: 282-1,028 minor faults for a `tasks(first: 50)` request here against 15-18
in the server (PROFILES.md, "Tried and reverted"). A change to how much a request allocates can
look several times larger here than a server would see it; check it with callgrind or under
uvicorn."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

SIZES = (10, 50, 100)


def _workloads(site: str, project_id: int, token: str) -> dict[str, Callable[[int], Any]]:
    from django.core.cache import cache
    from django.test import Client
    from graphql_relay import to_global_id

    from bench.http import GRAPHQL_QUERY

    client = Client()
    auth = {"Authorization": f"Bearer {token}"}
    gid = to_global_id("Project", project_id)
    found: dict[str, Callable[[int], Any]] = {}

    def post(path: str, body: object, headers: dict[str, str]) -> Callable[[int], Any]:
        data = json.dumps(body)
        return lambda i: client.post(
            path, data=data, content_type="application/json", headers=headers
        )

    def get(path: str, headers: dict[str, str], *, bust: bool = False) -> Callable[[int], Any]:
        if bust:
            return lambda i: client.get(f"{path}&_bust={i}", headers=headers)
        return lambda i: client.get(path, headers=headers)

    rest = f"?project={project_id}&page_size=50"
    if site == "taskhub":
        for n in SIZES:
            body = {"query": GRAPHQL_QUERY, "variables": {"p": gid, "n": n}}
            found[f"graphql-{n}"] = post("/graphql", body, auth)
        found["rest-miss"] = get(f"/api/v1/tasks/{rest}", auth, bust=True)
        found["rest-hit"] = get(f"/api/v1/tasks/{rest}", auth)
        found["bearer"] = post("/graphql", {"query": "{ __typename }"}, auth)
        found["anonymous"] = post("/graphql", {"query": "{ __typename }"}, {})
    else:
        for n in SIZES:
            found[f"graphql-{n}"] = get(f"/plain/graphql-tasks?project={project_id}&first={n}", {})
            body = {"query": GRAPHQL_QUERY, "variables": {"p": gid, "n": n}}
            found[f"graphene-{n}"] = post("/graphene/graphql", body, {})
        found["rest-miss"] = get(f"/plain/rest-tasks{rest}", {}, bust=True)
        found["rest-hit"] = found["rest-miss"]  # the floor has no cache: the same view
        found["drf-rest"] = get(f"/drf/tasks{rest}", {})
    cache.clear()  # the throttles' counters and stale responses of an earlier run
    return found


def measure(request: Callable[[int], Any], iterations: int, rounds: int) -> float:
    """Median over rounds of the mean CPU milliseconds per request."""
    for i in range(5):
        response = request(-i - 1)
        assert response.status_code == 200, (response.status_code, response.content[:300])
    results = []
    serial = 0
    for _ in range(rounds):
        spent = 0.0
        for _ in range(iterations):
            serial += 1
            start = time.process_time()
            request(serial)
            spent += time.process_time() - start
        results.append(1000 * spent / iterations)
    return statistics.median(results)


def run_site(
    site: str, only: list[str], iterations: int, rounds: int, profile: str | None
) -> dict[str, float]:
    from bench import env as bench_env

    if site == "peers":
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.peers.settings"
    bench_env.configure(settings_module=os.environ.get("DJANGO_SETTINGS_MODULE"))
    if "BENCH_PROJECT_ID" in os.environ:
        project_id, token = int(os.environ["BENCH_PROJECT_ID"]), os.environ["BENCH_TOKEN"]
    else:
        project_id, token = bench_env.prepare_data()
    workloads = _workloads(site, project_id, token)
    names = [name for name in workloads if not only or name in only]
    if profile and profile.endswith(".pstats"):
        import cProfile

        (name,) = names
        measure(workloads[name], 1, 1)
        with cProfile.Profile() as profiler:
            measure(workloads[name], iterations, 1)
        profiler.dump_stats(profile)
        return {}
    if profile:
        from pyinstrument import Profiler

        (name,) = names
        measure(workloads[name], 1, 1)
        profiler = Profiler(interval=0.0005)
        profiler.start()
        measure(workloads[name], iterations, 1)
        profiler.stop()
        if profile.endswith(".html"):
            with open(profile, "w") as out:
                out.write(profiler.output_html())
        else:
            with open(profile, "w") as out:
                out.write(profiler.output_text(unicode=False, color=False, show_all=False))
        return {}
    return {name: measure(workloads[name], iterations, rounds) for name in names}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--site", choices=["taskhub", "peers", "both"], default="both")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="profile one workload (--only) into FILE: cProfile stats for *.pstats, else"
        " pyinstrument (HTML for *.html, text otherwise; pyinstrument is not a dependency)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.site != "both":
        figures = run_site(args.site, args.only, args.iterations, args.rounds, args.profile)
        if args.json:
            print(json.dumps(figures))
        else:
            for name, ms in figures.items():
                print(f"{args.site:8} {name:12} {ms:7.2f} ms CPU/request")
        return 0
    from bench import env as bench_env

    bench_env.configure()
    project_id, token = bench_env.prepare_data()
    data = {"BENCH_PROJECT_ID": str(project_id), "BENCH_TOKEN": token}
    results = {}
    for site in ("peers", "taskhub"):
        command = [sys.executable, "-m", "bench.profile", "--site", site, "--json"]
        command += [f"--iterations={args.iterations}", f"--rounds={args.rounds}"]
        command += [f"--only={name}" for name in args.only]
        output = subprocess.run(
            command, check=True, capture_output=True, text=True, env={**os.environ, **data}
        ).stdout
        results[site] = json.loads(output.strip().splitlines()[-1])
    print("| workload | plain Django | TaskHub | ratio (CPU) |")
    print("|---|---|---|---|")
    for name, ms in results["taskhub"].items():
        floor = results["peers"].get(name)
        ratio = f"{floor / ms:.2f}" if floor else ""
        cell = f"{floor:.2f} ms" if floor else ""
        print(f"| {name} | {cell} | {ms:.2f} ms | {ratio} |")
    for name, ms in results["peers"].items():
        if name not in results["taskhub"]:
            print(f"| {name} (peer) | {ms:.2f} ms | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
