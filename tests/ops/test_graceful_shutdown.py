"""SIGTERM during a stream of writes: uvicorn stops accepting, lets in-flight requests finish and
closes WebSockets with 1012 (service restart: reconnect elsewhere); every write that was answered
2xx is in the database, and the process exits cleanly."""

from __future__ import annotations

import signal
import threading

import httpx
import pytest

from tasks.models import Task
from tests.e2e.realtime_client import close_code, subscribe
from tests.factories import make_token
from tests.live import ProcessServer

from .infra import bearer, env_for, read_log, shared_database_url

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

WRITERS = 4
MAX_WRITES_EACH = 150
SIGTERM_AFTER = 12
GOING_AWAY = {1001, 1012}


def test_sigterm_mid_stream_loses_no_answered_write(transactional_db, tmp_path, project, member):
    token = make_token(member)
    log_path = tmp_path / "server.log"
    server = ProcessServer(
        env_for(DATABASE_URL=shared_database_url(), LOG_LEVEL="INFO"),
        args=("--timeout-graceful-shutdown", "20", "--log-level", "info"),
        log_path=log_path,
    ).start()
    answered: list[tuple[str, int]] = []
    unanswered: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def write(writer: int) -> None:
        with httpx.Client(base_url=server.url, timeout=20) as http:
            for n in range(MAX_WRITES_EACH):
                title = f"w{writer}-{n}"
                try:
                    response = http.post(
                        "/api/v1/tasks/",
                        json={"project": project.pk, "title": title},
                        headers=bearer(token),
                    )
                except httpx.TransportError:
                    with lock:
                        unanswered.append(title)
                    return  # the server is gone
                with lock:
                    answered.append((title, response.status_code))
                    if len(answered) >= SIGTERM_AFTER:
                        enough.set()

    try:
        ws = subscribe(server, f"/ws/projects/{project.pk}/", token)
        threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        assert enough.wait(timeout=60)
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        code = close_code(ws, timeout=20)
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        # uvicorn re-raises the captured SIGTERM once its graceful shutdown is done.
        assert server.process.wait(timeout=30) in {0, -signal.SIGTERM}
    finally:
        server.stop()

    assert code in GOING_AWAY
    # The stream was cut by the shutdown, not run to its end.
    assert unanswered and len(answered) < WRITERS * MAX_WRITES_EACH
    assert {status for _, status in answered} == {201}
    committed = set(Task.objects.filter(project=project).values_list("title", flat=True))
    assert {title for title, _ in answered} <= committed

    records = read_log(log_path)  # every line is one JSON object
    messages = [record["message"] for record in records]
    assert "Shutting down" in messages
    assert any(message.startswith("Finished server process") for message in messages)
    problems = [r for r in records if r["level"] in {"ERROR", "CRITICAL"}]
    assert problems == []
    assert token not in log_path.read_text()
