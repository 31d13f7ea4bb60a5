"""Finding 2: a webhook attempt has one deadline, WEBHOOK_TIMEOUT_SECONDS, for connecting,
sending and the whole response. A receiver that trickles its answer a byte at a time (each byte
well inside any per-read timeout) is cut off, and the attempt is retried like any failure."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tasks import webhook_delivery, webhooks
from tasks.models import WebhookAttempt, WebhookDelivery
from tests.factories import make_task

BODY_BYTES = 40
BYTE_EVERY_SECONDS = 0.2  # the whole answer takes 8 s; the deadline below is 1 s


@contextlib.contextmanager
def trickling_receiver() -> Iterator[str]:
    """A real HTTP receiver on loopback that answers 200, one body byte at a time."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):
                conn.recv(65536)
                conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {BODY_BYTES}\r\n\r\n".encode())
                for _ in range(BODY_BYTES):
                    if stop.is_set():
                        break
                    conn.sendall(b"x")
                    time.sleep(BYTE_EVERY_SECONDS)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()


@pytest.mark.django_db(transaction=True)
def test_finding_2_webhook_deadline_cuts_off_a_trickling_receiver(
    settings: Any, project: Any, admin: Any, member: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1
    scheduled: list[tuple[int, int, int, float]] = []
    monkeypatch.setattr(webhook_delivery, "schedule", lambda *args: scheduled.append(args))

    with trickling_receiver() as url:
        webhooks.webhook_create(actor=admin, project_id=project.pk, url=url)
        make_task(project, member)
        [(delivery_id, sequence, attempt, _)] = scheduled
        recorded = webhook_delivery.run_attempt(delivery_id, sequence, attempt)

    assert recorded is not None
    assert recorded.status_code is None  # no complete response: not a success
    assert recorded.error.startswith("Timed out")
    assert recorded.next_attempt_at is not None  # retried with backoff
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.state == WebhookDelivery.State.PENDING
    assert [args[2] for args in scheduled] == [1, 2]  # the second attempt is scheduled
    assert scheduled[1][3] > 0
    assert WebhookAttempt.objects.filter(delivery_id=delivery_id).count() == 1
