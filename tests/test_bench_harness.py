"""The benchmark harness parses wrk's report correctly (the benchmark itself is not a test)."""

import pytest

from bench.wrk import _duration_ms, _lua, parse

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8000/graphql
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.21ms    1.02ms  20.11ms   90.00%
    Req/Sec     1.53k    80.12     1.70k    70.00%
  3061 requests in 2.00s, 1.20MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1530.12
Transfer/sec:    612.00KB
P50 4.900000
P99 9.750000
"""


def test_parse_reads_rate_percentiles_and_errors():
    result = parse(WRK_OUTPUT)
    assert result.rps == pytest.approx(1530.12)
    assert result.p50_ms == pytest.approx(4.9)
    assert result.p99_ms == pytest.approx(9.75)
    assert result.errors == 3


@pytest.mark.parametrize(("text", "ms"), [("450.00us", 0.45), ("1.50ms", 1.5), ("2.00s", 2000.0)])
def test_durations_convert_to_milliseconds(text, ms):
    assert _duration_ms(text) == pytest.approx(ms)


def test_cache_busting_script_makes_every_path_unique():
    script = _lua("GET", {"Authorization": "Bearer t"}, None, cache_bust=True)
    assert "request = function()" in script
    assert "_bust=" in script
    assert 'wrk.headers["Authorization"] = "Bearer t"' in script


@pytest.mark.parametrize(
    "module",
    ["bench.scaleout", "bench.seqcost", "bench.fanout", "bench.subscriptions", "bench.http"],
)
def test_every_bench_section_imports(module):
    """The sections that only `make bench` on PostgreSQL + Redis reaches (scale-out) fail late and
    take the whole run's results with them: at least their imports are checked here."""
    import importlib

    imported = importlib.import_module(module)
    assert imported.__name__ == module


def test_the_scale_out_section_builds_its_row(monkeypatch):
    """Runs `run_scaleout` with stand-ins for the servers and wrk: what it sends and prints."""
    from types import SimpleNamespace

    from bench import scaleout

    class FakeServer:
        def __init__(self, *, workers: int) -> None:
            self.url = f"http://fake-{workers}"

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    bodies = []

    def fake_wrk(*, url, json_body, **kwargs):
        bodies.append(json_body)
        return SimpleNamespace(rps=170.0 if "fake-2" in url else 100.0)

    monkeypatch.setattr(scaleout, "Server", FakeServer)
    monkeypatch.setattr(scaleout, "run_wrk", fake_wrk)
    lines = scaleout.run_scaleout(7, "token", repeats=1, duration=1)
    assert "| 1.70x | >= 1.7x |" in "\n".join(lines)
    assert bodies[0]["variables"] == {"p": "UHJvamVjdDo3", "n": 10}
    assert "tasks(" in bodies[0]["query"]


def test_a_server_is_idle_only_once_its_cpu_time_stops_growing(monkeypatch):
    from bench.server import Server

    server = Server()
    readings = iter([0.0, 0.5, 0.5, 1.0, 1.0, 1.0])  # busy, busy, then still
    monkeypatch.setattr(server, "cpu_seconds", lambda: next(readings))
    assert server.wait_idle(timeout=5, window=0.01)
    assert next(readings, None) is None  # it read until the still window

    always_busy = iter(range(1000))
    monkeypatch.setattr(server, "cpu_seconds", lambda: float(next(always_busy)))
    assert not server.wait_idle(timeout=0.05, window=0.01)


def test_each_endpoint_is_measured_with_every_server_of_its_workload_idle():
    """The peers' process kept running the slowest peer's last requests while the next endpoint
    was timed on the same core (strawberry-django's at `first: 100`, then TaskHub's)."""
    from bench.http import Endpoint, Workload

    log: list[str] = []

    class FakeServer:
        def __init__(self, name: str) -> None:
            self.name = name

        def wait_idle(self) -> bool:
            log.append(f"idle {self.name}")
            return True

    class FakeEndpoint(Endpoint):
        def measure(self, duration: int) -> None:
            log.append(f"measure {self.label}")

    peers, taskhub = FakeServer("peers"), FakeServer("taskhub")
    endpoints = [
        FakeEndpoint("graphene", peers, "/a"),  # type: ignore[arg-type]
        FakeEndpoint("TaskHub", taskhub, "/b"),  # type: ignore[arg-type]
    ]
    workload = Workload("w", endpoints, {})
    workload.check = lambda: None  # type: ignore[method-assign]
    workload.run(repeats=1, duration=1)
    assert log == [
        "idle peers", "idle taskhub", "measure graphene",
        "idle peers", "idle taskhub", "measure TaskHub",
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_each_run_compacts_what_earlier_runs_left_behind():
    from django.db import connection

    from bench.seed import compact
    from tasks.models import Task
    from tests.factories import UserFactory, make_project

    project = make_project(UserFactory())
    Task.objects.bulk_create(
        [Task(project=project, title=f"t{i}", description="x" * 2000) for i in range(300)]
    )
    Task.objects.filter(project=project).delete()

    def reclaimable():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'tasks_task'"
                )
            else:
                cursor.execute("PRAGMA freelist_count")
            return cursor.fetchone()[0]

    before = reclaimable()
    compact()
    after = reclaimable()
    if connection.vendor == "postgresql":
        assert after > before  # tasks_task was vacuumed
    else:
        assert before > 0 and after == 0  # the deleted rows' pages went back to the file system
