"""Deliveries against a real local HTTP receiver (pytest-httpserver).

Deliveries run where they run in production: on the in-process runner when there is no broker,
and, when REDIS_URL is set, through Redis on a real Celery worker started in a thread.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils.http import http_date
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook as StandardWebhook
from werkzeug import Request, Response

from tasks import services, webhook_delivery, webhooks
from tasks.events import event_payload
from tasks.models import Event, Webhook, WebhookAttempt, WebhookDelivery
from tests.factories import make_task

REDIS = bool(os.environ.get("REDIS_URL"))
WAIT_SECONDS = 20


def wait_for(predicate: Callable[[], Any], what: str) -> Any:
    """Polls until `predicate` is truthy; the deadline only guards against a hang."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"gave up waiting for {what}")


@dataclass
class Receiver:
    """Records every request; answers with `responses` in turn, repeating the last one."""

    responses: list[Callable[[], Response]]
    requests: list[tuple[dict[str, str], bytes, str]] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        self.requests.append((dict(request.headers), request.get_data(), request.path))
        respond = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        return respond()


def reply(status: int = 200, body: str = "ok", **headers: str) -> Callable[[], Response]:
    return lambda: Response(body, status=status, headers=headers)


def listen(httpserver: HTTPServer, *responses: Callable[[], Response]) -> Receiver:
    receiver = Receiver(list(responses) or [reply()])
    httpserver.expect_request("/hook", method="POST").respond_with_handler(receiver)
    return receiver


@pytest.fixture
def fast(settings: Any) -> Any:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 0.01
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 0.05
    settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS = 0.05
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 2
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    return settings


@pytest.fixture
def worker(fast: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever runs delivery jobs in this configuration; waits for them before the test ends."""
    if REDIS:
        from celery.contrib.testing.worker import start_worker

        from project.celery import app

        def no_local_runner() -> None:
            raise AssertionError("with a broker, deliveries go through Celery")

        monkeypatch.setattr(webhook_delivery, "local_runner", no_local_runner)
        app.control.purge()
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            yield
    else:
        # One thread: deliveries' writes never overlap (see `settle`).
        monkeypatch.setattr(webhook_delivery, "_runner", webhook_delivery.LocalRunner(1))
        yield
        assert webhook_delivery.local_runner().wait_idle(WAIT_SECONDS)


def register(actor: Any, project: Any, url: str, **fields: Any) -> webhooks.CreatedWebhook:
    return webhooks.webhook_create(actor=actor, project_id=project.pk, url=url, **fields)


def settle(**filters: Any) -> WebhookDelivery:
    """The delivery once it is no longer pending. In-process, first wait for the runner to go
    idle: SQLite's shared in-memory test database fails a read that overlaps a worker's write
    ("table is locked") instead of waiting for it."""
    if not REDIS:
        assert webhook_delivery.local_runner().wait_idle(WAIT_SECONDS)
    return wait_for(  # type: ignore[no-any-return]
        lambda: (
            WebhookDelivery.objects.filter(**filters)
            .exclude(state=WebhookDelivery.State.PENDING)
            .first()
        ),
        f"delivery {filters} to settle",
    )


def attempts_of(delivery: WebhookDelivery) -> list[tuple[int, int, int | None]]:
    return [
        (a.sequence, a.number, a.status_code)
        for a in WebhookAttempt.objects.filter(delivery=delivery).order_by("id")
    ]


# --- The happy path and signatures ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_delivery_is_signed_and_verifies_with_the_secret(
    worker: Any, httpserver: HTTPServer, project: Any, admin: Any, member: Any
) -> None:
    receiver = listen(httpserver)
    created = register(admin, project, httpserver.url_for("/hook"), event_types=["task.created"])

    task = make_task(project, member, title="Signed")

    delivery = settle(webhook=created.webhook)
    assert delivery.state == WebhookDelivery.State.SUCCEEDED
    assert len(receiver.requests) == 1
    headers, body, _ = receiver.requests[0]
    verified = StandardWebhook(created.secret).verify(body, headers)
    event = Event.objects.get(type="task.created", task_id=task.pk)
    assert verified == json.loads(json.dumps(event_payload(event)))
    assert headers["Webhook-Id"] == delivery.message_id
    assert headers["Content-Type"] == "application/json"
    assert abs(int(headers["Webhook-Timestamp"]) - time.time()) < 300
    with pytest.raises(Exception, match="signature"):
        StandardWebhook(register(admin, project, "https://x.example.com").secret).verify(
            body, headers
        )
    assert attempts_of(delivery) == [(1, 1, 200)]
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.response_body == "ok"
    assert attempt.error == ""
    assert attempt.duration_ms >= 0


@pytest.mark.django_db(transaction=True)
def test_retries_on_500_then_succeeds_with_the_same_webhook_id(
    worker: Any, httpserver: HTTPServer, project: Any, admin: Any, member: Any
) -> None:
    receiver = listen(httpserver, reply(500, "boom"), reply(503), reply(200))
    created = register(admin, project, httpserver.url_for("/hook"))

    make_task(project, member)

    delivery = settle(webhook=created.webhook)
    assert delivery.state == WebhookDelivery.State.SUCCEEDED
    assert attempts_of(delivery) == [(1, 1, 500), (1, 2, 503), (1, 3, 200)]
    ids = {headers["Webhook-Id"] for headers, _, _ in receiver.requests}
    assert ids == {delivery.message_id}
    bodies = {body for _, body, _ in receiver.requests}
    assert len(bodies) == 1  # the very same bytes every time
    for headers, body, _ in receiver.requests:
        StandardWebhook(created.secret).verify(body, headers)
    failed = WebhookAttempt.objects.filter(delivery=delivery).order_by("id")[0]
    assert (failed.error, failed.response_body) == ("HTTP 500", "boom")
    assert failed.next_attempt_at is not None


@pytest.mark.django_db(transaction=True)
def test_gives_up_after_max_attempts_and_disables_after_repeated_failures(
    worker: Any, httpserver: HTTPServer, project: Any, admin: Any, member: Any, caplog: Any
) -> None:
    listen(httpserver, reply(500))
    created = register(admin, project, httpserver.url_for("/hook"))
    webhook = created.webhook

    for number in range(3):  # WEBHOOK_DISABLE_AFTER_FAILURES = 3
        task = make_task(project, member, title=f"Task {number}")
        delivery = settle(webhook=webhook, event__task_id=task.pk)
        assert delivery.state == WebhookDelivery.State.FAILED
        assert attempts_of(delivery) == [(1, 1, 500), (1, 2, 500), (1, 3, 500)]

    webhook.refresh_from_db()
    assert webhook.active is False
    assert webhook.disabled_at is not None
    assert "3 consecutive failed deliveries" in webhook.disabled_reason
    assert webhook.consecutive_failures == 3
    if not REDIS:  # the worker thread's log records reach caplog only in-process
        assert "webhook disabled" in caplog.text

    requests_before = len(httpserver.log)
    make_task(project, member, title="After disablement")
    assert WebhookDelivery.objects.filter(webhook=webhook).count() == 3
    assert len(httpserver.log) == requests_before


@pytest.mark.django_db(transaction=True)
def test_a_success_resets_the_failure_count(
    worker: Any, httpserver: HTTPServer, project: Any, admin: Any, member: Any, settings: Any
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    listen(httpserver, reply(500), reply(500), reply(200))
    webhook = register(admin, project, httpserver.url_for("/hook")).webhook
    for number in range(3):
        task = make_task(project, member, title=f"Task {number}")
        settle(webhook=webhook, event__task_id=task.pk)
        webhook.refresh_from_db()
        assert webhook.consecutive_failures == [1, 2, 0][number]
    assert webhook.active is True


# --- The request that caused the event never waits ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_slow_receiver_does_not_block_the_change(
    worker: Any, httpserver: HTTPServer, project: Any, admin: Any, member: Any
) -> None:
    arrived = threading.Event()
    release = threading.Event()

    def slow() -> Response:
        arrived.set()
        release.wait(WAIT_SECONDS)
        return Response("late", status=200)

    listen(httpserver, slow)
    webhook = register(admin, project, httpserver.url_for("/hook")).webhook
    try:
        task = make_task(project, member, title="Quick")  # returns while the receiver waits
        assert not release.is_set()
        assert arrived.wait(WAIT_SECONDS)  # the delivery really is in flight
        delivery = WebhookDelivery.objects.get(webhook=webhook)
        assert delivery.state == WebhookDelivery.State.PENDING
        assert not WebhookAttempt.objects.filter(delivery=delivery).exists()
        services.task_update(actor=member, task_id=task.pk, changes={"title": "Still quick"})
    finally:
        release.set()
    assert settle(webhook=webhook, event__type="task.created").state == "succeeded"
    assert settle(webhook=webhook, event__type="task.updated").state == "succeeded"


@pytest.fixture
def threaded_httpserver() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_receiver_slower_than_the_read_timeout_is_a_retryable_failure(
    worker: Any,
    threaded_httpserver: HTTPServer,
    project: Any,
    admin: Any,
    member: Any,
    settings: Any,
) -> None:
    """The first request hangs until the second one arrives, which only a retry after the read
    timeout can send."""
    # The whole attempt (connect, send, response) must fit: roomy enough for a loaded machine.
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    retried = threading.Event()

    def stuck() -> Response:
        retried.wait(WAIT_SECONDS)
        return Response("too late")

    def answer() -> Response:
        retried.set()
        return Response("ok")

    listen(threaded_httpserver, stuck, answer)
    webhook = register(admin, project, threaded_httpserver.url_for("/hook")).webhook
    try:
        make_task(project, member)
        delivery = settle(webhook=webhook)
    finally:
        retried.set()
    assert attempts_of(delivery) == [(1, 1, None), (1, 2, 200)]
    first = WebhookAttempt.objects.filter(delivery=delivery).order_by("id")[0]
    assert "Timed out" in first.error
    assert first.next_attempt_at is not None


# --- Redeliver ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_redeliver_sends_again_with_the_same_webhook_id(
    worker: Any, httpserver: HTTPServer, project: Any, admin: Any, member: Any
) -> None:
    receiver = listen(httpserver, reply(400, "bad"), reply(200))  # 4xx: no retry
    created = register(admin, project, httpserver.url_for("/hook"))
    make_task(project, member)
    delivery = settle(webhook=created.webhook)
    assert delivery.state == WebhookDelivery.State.FAILED
    assert attempts_of(delivery) == [(1, 1, 400)]
    assert delivery.last_error == "HTTP 400"

    webhooks.webhook_redeliver(actor=admin, delivery_id=delivery.pk)

    delivery = settle(pk=delivery.pk)
    assert delivery.state == WebhookDelivery.State.SUCCEEDED
    assert attempts_of(delivery) == [(1, 1, 400), (2, 1, 200)]
    assert [h["Webhook-Id"] for h, _, _ in receiver.requests] == [delivery.message_id] * 2
    for headers, body, _ in receiver.requests:
        StandardWebhook(created.secret).verify(body, headers)
    listed = webhooks.delivery_attempts(admin, delivery.pk)
    assert [(a.sequence, a.number, a.succeeded) for a in listed] == [(1, 1, False), (2, 1, True)]


# --- Retry-After: the scheduled delay, asserted without running it --------------------------------


@pytest.fixture
def scheduled(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, int, float]]:
    calls: list[tuple[int, int, int, float]] = []
    monkeypatch.setattr(webhook_delivery, "schedule", lambda *args: calls.append(args))
    return calls


def pending_delivery(admin: Any, project: Any, url: str) -> WebhookDelivery:
    webhook = register(admin, project, url).webhook
    event = Event.objects.filter(project=project).first()
    assert event is not None
    return WebhookDelivery.objects.create(
        webhook=webhook, event=event, event_type=event.type, payload=event_payload(event)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("retry_after", "expected_delay"), [("7", 7.0), ("0", 0.0), ("86400", 30.0)]
)
def test_retry_after_is_honoured_and_capped(
    fast: Any,
    scheduled: Any,
    django_capture_on_commit_callbacks: Any,
    httpserver: HTTPServer,
    project: Any,
    admin: Any,
    retry_after: str,
    expected_delay: float,
) -> None:
    fast.WEBHOOK_RETRY_AFTER_MAX_SECONDS = 30
    listen(httpserver, reply(429, "slow down", **{"Retry-After": retry_after}))
    delivery = pending_delivery(admin, project, httpserver.url_for("/hook"))

    with django_capture_on_commit_callbacks(execute=True):
        attempt = webhook_delivery.run_attempt(delivery.pk, 1, 1)

    assert scheduled == [(delivery.pk, 1, 2, expected_delay)]
    assert attempt is not None
    assert attempt.status_code == 429
    assert attempt.next_attempt_at is not None
    recorded_delay = (attempt.next_attempt_at - attempt.created_at).total_seconds()
    assert abs(recorded_delay - expected_delay) < 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == attempt.next_attempt_at
    assert delivery.state == WebhookDelivery.State.PENDING


@pytest.mark.django_db
def test_retry_after_as_an_http_date_is_honoured(
    fast: Any,
    scheduled: Any,
    django_capture_on_commit_callbacks: Any,
    httpserver: HTTPServer,
    project: Any,
    admin: Any,
) -> None:
    fast.WEBHOOK_RETRY_AFTER_MAX_SECONDS = 3600
    when = time.time() + 120
    listen(httpserver, reply(503, **{"Retry-After": http_date(when)}))
    delivery = pending_delivery(admin, project, httpserver.url_for("/hook"))
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery.run_attempt(delivery.pk, 1, 1)
    [(_, _, _, delay)] = scheduled
    assert 100 <= delay <= 120


@pytest.mark.django_db
def test_without_retry_after_the_delay_is_the_jittered_backoff(
    fast: Any,
    scheduled: Any,
    django_capture_on_commit_callbacks: Any,
    httpserver: HTTPServer,
    project: Any,
    admin: Any,
) -> None:
    fast.WEBHOOK_BACKOFF_BASE_SECONDS = 8
    fast.WEBHOOK_BACKOFF_MAX_SECONDS = 1000
    listen(httpserver, reply(502))
    delivery = pending_delivery(admin, project, httpserver.url_for("/hook"))
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery.run_attempt(delivery.pk, 1, 1)
        webhook_delivery.run_attempt(delivery.pk, 1, 2)
    [first, second] = [call[3] for call in scheduled]
    assert 4 <= first <= 8
    assert 8 <= second <= 16


@pytest.mark.django_db
def test_stale_and_duplicate_jobs_do_nothing(
    fast: Any,
    scheduled: Any,
    django_capture_on_commit_callbacks: Any,
    httpserver: HTTPServer,
    project: Any,
    admin: Any,
) -> None:
    listen(httpserver, reply(500))
    delivery = pending_delivery(admin, project, httpserver.url_for("/hook"))
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_delivery.run_attempt(delivery.pk, 1, 1) is not None
        assert webhook_delivery.run_attempt(delivery.pk, 1, 1) is None  # duplicate
        assert webhook_delivery.run_attempt(delivery.pk, 2, 1) is None  # no such sequence
        assert webhook_delivery.run_attempt(999_999, 1, 1) is None  # deleted delivery
    assert len(httpserver.log) == 1


# --- What the client will and will not do with a response -----------------------------------------


@pytest.mark.django_db
def test_redirects_are_not_followed(
    fast: Any, scheduled: Any, httpserver: HTTPServer, project: Any, admin: Any
) -> None:
    listen(httpserver, reply(302, "", Location=httpserver.url_for("/elsewhere")))
    httpserver.expect_request("/elsewhere").respond_with_data("should not be reached")
    delivery = pending_delivery(admin, project, httpserver.url_for("/hook"))
    attempt = webhook_delivery.run_attempt(delivery.pk, 1, 1)
    assert attempt is not None
    assert attempt.status_code == 302
    assert [request.path for request, _ in httpserver.log] == ["/hook"]
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.FAILED
    assert scheduled == []


@pytest.mark.django_db
def test_response_bodies_are_read_up_to_a_small_cap(
    fast: Any, scheduled: Any, httpserver: HTTPServer, project: Any, admin: Any
) -> None:
    listen(httpserver, reply(200, "x" * 200_000))
    delivery = pending_delivery(admin, project, httpserver.url_for("/hook"))
    attempt = webhook_delivery.run_attempt(delivery.pk, 1, 1)
    assert attempt is not None
    assert attempt.response_body == "x" * 4096


@pytest.mark.django_db
def test_private_targets_are_refused_at_delivery_when_the_setting_is_off(
    fast: Any, scheduled: Any, httpserver: HTTPServer, project: Any, admin: Any
) -> None:
    listen(httpserver)
    delivery = pending_delivery(admin, project, httpserver.url_for("/hook"))  # localhost
    fast.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    attempt = webhook_delivery.run_attempt(delivery.pk, 1, 1)

    assert attempt is not None
    assert attempt.status_code is None
    assert "not a public address" in attempt.error
    assert httpserver.log == []
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.FAILED  # refused targets are not retried
    assert scheduled == []


@pytest.mark.django_db
def test_pending_attempts_of_a_deactivated_webhook_are_dropped(
    fast: Any, scheduled: Any, httpserver: HTTPServer, project: Any, admin: Any
) -> None:
    listen(httpserver)
    delivery = pending_delivery(admin, project, httpserver.url_for("/hook"))
    Webhook.objects.filter(pk=delivery.webhook_id).update(active=False)
    assert webhook_delivery.run_attempt(delivery.pk, 1, 1) is None
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_error) == ("failed", "The webhook is not active.")
    assert httpserver.log == []


# --- Where jobs run -------------------------------------------------------------------------------


def test_with_a_broker_retries_are_celery_jobs_with_a_countdown(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.jobs import deliver_webhook

    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(deliver_webhook, "apply_async", lambda **kwargs: sent.append(kwargs))
    monkeypatch.setattr(webhook_delivery, "local_runner", lambda: pytest.fail("in-process"))
    webhook_delivery.schedule(41, 2, 3, 7.5)
    assert sent == [{"args": (41, 2, 3), "countdown": 7.5}]


def test_without_a_broker_jobs_go_to_the_in_process_runner(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.jobs import deliver_webhook

    settings.CELERY_TASK_ALWAYS_EAGER = True
    submitted: list[tuple[Any, ...]] = []

    class Runner:
        def submit(self, *args: Any) -> None:
            submitted.append(args)

    monkeypatch.setattr(deliver_webhook, "apply_async", lambda **kwargs: pytest.fail("celery"))
    monkeypatch.setattr(webhook_delivery, "local_runner", Runner)
    webhook_delivery.schedule(41, 2, 3, 7.5)
    assert submitted == [(7.5, webhook_delivery.run_attempt, 41, 2, 3)]


def test_the_in_process_runner_runs_jobs_and_delayed_jobs_off_the_calling_thread() -> None:
    runner = webhook_delivery.LocalRunner(2)
    ran: list[tuple[str, str]] = []
    done = threading.Event()

    def job(name: str) -> None:
        ran.append((name, threading.current_thread().name))
        if name == "late":
            done.set()

    runner.submit(0.05, job, "late")
    runner.submit(0, job, "now")
    assert done.wait(WAIT_SECONDS)
    assert runner.wait_idle(WAIT_SECONDS)
    assert sorted(name for name, _ in ran) == ["late", "now"]
    assert all(thread.startswith("webhook") for _, thread in ran)
