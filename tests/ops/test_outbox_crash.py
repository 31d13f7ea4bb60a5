"""A server process SIGKILLed after a change commits and before its dispatch runs loses nothing:
once the process is started again, the webhook is delivered exactly once per `webhook-id` and a
resuming subscriber gets the event. The first process is told to wait before dispatching (the
test hook OUTBOX_TEST_DISPATCH_DELAY_SECONDS), so the kill always lands in that window.

On the embedded default (SQLite file, no broker) the restarted web process's own sweeper
dispatches; on PostgreSQL + Redis, as in production, a Celery worker with beat does."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import POSTGRES, REDIS
from tests.e2e.realtime_client import receive_event, send, subscribe
from tests.live import ROOT, ProcessServer

from .infra import RedisProcess, bearer, env_for, shared_database_url, wait_until

pytestmark = pytest.mark.e2e

WAIT = 60


class Receiver:
    """A webhook receiver on loopback that answers 200 and keeps every `webhook-id` it got."""

    def __init__(self) -> None:
        received: list[tuple[str, dict[str, Any]]] = []
        self.received = received
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    received.append((self.headers["webhook-id"], body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def ids(self) -> Counter[str]:
        return Counter(webhook_id for webhook_id, _ in self.received)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def site(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.ops.outbox_site", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answer


@contextlib.contextmanager
def backend(request: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of every process of the test: PostgreSQL with a Redis of the test's own,
    or a SQLite file."""
    base = {
        **os.environ,
        **env_for(
            OUTBOX_GRACE_SECONDS="1",
            OUTBOX_SWEEP_INTERVAL_SECONDS="0.5",
            WEBHOOK_ALLOW_PRIVATE_TARGETS="1",  # the receiver is on loopback
            WEBHOOK_BACKOFF_BASE_SECONDS="0.1",
        ),
    }
    if not POSTGRES:
        yield {**base, "SQLITE_PATH": str(tmp_path / "crash.sqlite3")}
        return
    assert REDIS, "the PostgreSQL pass runs with REDIS_URL set"
    request.getfixturevalue("transactional_db")
    redis = RedisProcess().start()
    try:
        yield {**base, "DATABASE_URL": shared_database_url(), "REDIS_URL": redis.url}
    finally:
        redis.stop()


@contextlib.contextmanager
def sweeper(env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    """Whatever re-dispatches in this configuration; yields the restarted server's environment."""
    if not POSTGRES:
        yield {**env, "OUTBOX_SWEEP_IN_PROCESS": "1"}
        return
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "project", "worker", "--beat"),
            *("--schedule", str(tmp_path / "beat-schedule"), "--pool", "solo"),
            *("--loglevel", "WARNING"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    log.close()
    try:
        yield {**env, "OUTBOX_SWEEP_IN_PROCESS": "0"}
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=20)


def test_a_change_committed_before_a_sigkill_is_dispatched_after_the_restart(
    request: Any, tmp_path: Path
) -> None:
    with backend(request, tmp_path) as env, Receiver() as receiver:
        made = site(env, "setup", receiver.url)
        token, project_id = made["token"], made["project_id"]

        crashing = ProcessServer(
            {**env, "OUTBOX_TEST_DISPATCH_DELAY_SECONDS": "3600", "OUTBOX_SWEEP_IN_PROCESS": "0"},
            log_path=tmp_path / "crashing.log",
        ).start()
        try:
            # The answer does not wait for the dispatch (which waits an hour here).
            patched = httpx.patch(
                f"{crashing.url}/api/v1/tasks/{made['task_id']}/",
                json={"title": "Committed, then the process died"},
                headers=bearer(token),
                timeout=WAIT,
            )
            assert patched.status_code == 200, patched.text
            before = site(env, "state")
            [delivery] = [d for d in before["deliveries"] if d["state"] == "pending"]
            assert before["outbox"] == [delivery["event_id"]]  # committed, not dispatched
            assert delivery["attempt_count"] == 0
        finally:
            assert crashing.process is not None
            crashing.process.send_signal(signal.SIGKILL)
            crashing.process.wait(timeout=WAIT)
        assert receiver.received == []

        with sweeper(env, tmp_path) as restarted_env:
            restarted = ProcessServer(restarted_env, log_path=tmp_path / "restarted.log").start()
            try:
                ws = subscribe(restarted, f"/ws/projects/{project_id}/", token)
                send(ws, {"type": "resume", "after": made["after"]})
                replayed = receive_event(ws, timeout=WAIT)
                assert (replayed["id"], replayed["type"]) == (
                    str(delivery["event_id"]),
                    "task.updated",
                )
                assert replayed["data"]["title"] == "Committed, then the process died"

                wait_until(lambda: receiver.ids()[delivery["message_id"]] >= 1, timeout=WAIT)
                # A later change through the restarted process, delivered too: every sweep that
                # could have sent the first one again has run by the time its webhook arrives.
                later = httpx.patch(
                    f"{restarted.url}/api/v1/tasks/{made['task_id']}/",
                    json={"title": "After the restart"},
                    headers=bearer(token),
                    timeout=WAIT,
                )
                assert later.status_code == 200, later.text
                live = receive_event(ws, timeout=WAIT)
                assert (live["type"], live["data"]["title"]) == (
                    "task.updated",
                    "After the restart",
                )
                wait_until(lambda: len(receiver.ids()) == 2, timeout=WAIT)
                wait_until(lambda: not site(env, "state")["outbox"], timeout=WAIT)
                ws.close()
            finally:
                restarted.stop()

        after = site(env, "state")
        assert after["outbox"] == []
        assert [d["state"] for d in after["deliveries"]] == ["succeeded", "succeeded"]
        assert receiver.ids() == Counter({d["message_id"]: 1 for d in after["deliveries"]})
        crashed_body = dict(receiver.received)[delivery["message_id"]]
        assert crashed_body["id"] == str(delivery["event_id"])
        assert crashed_body["data"]["title"] == "Committed, then the process died"
