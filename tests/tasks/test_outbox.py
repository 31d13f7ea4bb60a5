"""The transactional outbox (tasks.outbox): the mark is written with the change, the dispatch
claims it once, a lost dispatch is swept after its grace period, and on a web process the answer
never waits for the fan-out. The crash itself, with real processes: tests/ops/test_outbox_crash.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from project.celery import app as celery_app
from tasks import events, outbox, services, webhook_delivery, webhooks
from tasks.jobs import sweep_outbox
from tasks.models import Event, OutboxEntry, WebhookDelivery
from tests.e2e.realtime_client import drain_quiet, receive_event, rest, subscribe
from tests.factories import make_task, make_token

pytestmark = pytest.mark.django_db

WAIT = 15


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """(project id, event id) of every channel-layer send, in order."""
    calls: list[tuple[int, str]] = []

    async def record(
        payload: dict[str, Any], *, project_id: int, origin: str | None = None
    ) -> None:
        calls.append((project_id, payload["id"]))

    monkeypatch.setattr(events, "publish_async", record)
    return calls


@pytest.fixture
def scheduled(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(webhook_delivery, "schedule", lambda *args: calls.append(args))
    return calls


def crash_after_commit(django_capture_on_commit_callbacks: Any, change: Any) -> Event:
    """Commits `change` and never runs its after-commit dispatch, as a process killed there."""
    with django_capture_on_commit_callbacks(execute=False):
        change()
    return Event.objects.latest("id")


@pytest.fixture(autouse=True)
def _no_fixture_marks(project: Any) -> None:
    """The fixtures' own events: their test transaction never commits, so never dispatches."""
    OutboxEntry.objects.all().delete()


def overdue(settings: Any) -> None:
    """The grace period of every pending entry has lapsed."""
    OutboxEntry.objects.update(available_at=timezone.now() - timedelta(seconds=1))


def test_the_mark_is_written_in_the_change_s_transaction_and_gone_after_dispatch(
    project, member, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        task = make_task(project, member)
        event = Event.objects.get(task_id=task.pk)
        entry = OutboxEntry.objects.get(event=event)
        assert entry.claim is None
        assert entry.available_at > timezone.now() + timedelta(seconds=25)  # the grace period
    assert len(callbacks) == 1
    assert not OutboxEntry.objects.filter(event=event).exists()
    assert sent == [(project.pk, str(event.pk))]


def test_a_request_s_dispatch_waits_until_its_response_is_sent(
    project, member, sent, django_capture_on_commit_callbacks
):
    """Django sends request_started and request_finished (after the response's last byte) in the
    request's thread; the cache generation is bumped at once, the fan-out only after."""
    generation = events.current_generation(project.pk)
    outbox._request_started()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            task = make_task(project, member)
        assert events.current_generation(project.pk) == generation + 1
        assert sent == []  # committed, answer not sent yet
    finally:
        outbox._request_finished()
    event = Event.objects.get(task_id=task.pk)
    assert sent == [(project.pk, str(event.pk))]
    assert not OutboxEntry.objects.filter(event=event).exists()


def test_a_lost_dispatch_is_swept_once_its_grace_period_lapses(
    project, admin, member, sent, scheduled, settings, django_capture_on_commit_callbacks
):
    webhooks.webhook_create(actor=admin, project_id=project.pk, url="https://hooks.example.com/")
    generation = events.current_generation(project.pk)
    event = crash_after_commit(
        django_capture_on_commit_callbacks, lambda: make_task(project, member)
    )
    assert outbox.sweep() == 0  # within its grace period: its own dispatcher may still run
    assert sent == [] and scheduled == []

    overdue(settings)
    assert outbox.sweep() == 1
    delivery = WebhookDelivery.objects.get(event=event)
    assert sent == [(project.pk, str(event.pk))]
    assert scheduled == [(delivery.pk, 1, 1, 0.0)]
    assert events.current_generation(project.pk) == generation + 1
    assert not OutboxEntry.objects.filter(event=event).exists()
    assert outbox.sweep() == 0  # dispatched once


def test_the_sweeper_sends_the_stored_event_as_it_was_committed(
    project, member, sent, settings, django_capture_on_commit_callbacks, monkeypatch
):
    payloads: list[dict[str, Any]] = []

    async def record(payload: dict[str, Any], *, project_id: int) -> None:
        payloads.append(payload)

    monkeypatch.setattr(events, "publish_async", record)
    event = crash_after_commit(
        django_capture_on_commit_callbacks,
        lambda: services.task_create(actor=member, project_id=project.pk, title="Swept"),
    )
    overdue(settings)
    outbox.sweep()
    assert payloads[-1] == events.event_payload(Event.objects.get(pk=event.pk))


def test_an_entry_is_dispatched_by_one_claimer_only(
    project, member, sent, settings, django_capture_on_commit_callbacks
):
    event = crash_after_commit(
        django_capture_on_commit_callbacks, lambda: make_task(project, member)
    )
    pending = outbox.Pending(event.pk, project.pk, events.event_payload(event), False)
    assert [item.event_id for item in outbox.claim([pending]).pending] == [event.pk]
    assert outbox.claim_overdue(10).pending == []  # no sweeper within the grace period

    # The after-commit dispatch never came: once the grace period lapses one sweeper takes it.
    overdue(settings)
    swept = outbox.claim_overdue(10)
    assert [item.event_id for item in swept.pending] == [event.pk]
    assert outbox.claim_overdue(10).pending == []  # a second sweeper, while the claim holds
    assert outbox.claim([pending]).pending == []  # a late after-commit dispatcher
    outbox.complete(outbox.Claim(None, [pending]))  # deletes nothing a sweeper claimed
    assert OutboxEntry.objects.filter(pk=event.pk).exists()

    # That sweeper died too: its claim lapses and another sweeper takes the entry.
    overdue(settings)
    again = outbox.claim_overdue(10)
    assert [item.event_id for item in again.pending] == [event.pk]
    outbox.complete(swept)  # the dead sweeper's late completion deletes nothing either
    assert OutboxEntry.objects.filter(pk=event.pk).exists()
    outbox.complete(again)
    assert not OutboxEntry.objects.filter(pk=event.pk).exists()


def test_overdue_webhook_attempts_are_scheduled_again(project, admin, scheduled, settings):
    hook = webhooks.webhook_create(
        actor=admin, project_id=project.pk, url="https://hooks.example.com/"
    ).webhook
    event = Event.objects.filter(project=project).first()
    assert event is not None
    never_tried = WebhookDelivery.objects.create(webhook=hook, event=event, event_type=event.type)
    retry_lost = WebhookDelivery.objects.create(
        webhook=hook,
        event=event,
        event_type=event.type,
        attempt_count=2,
        next_attempt_at=timezone.now() - timedelta(minutes=5),
    )
    WebhookDelivery.objects.create(  # settled: left alone
        webhook=hook, event=event, event_type=event.type, state=WebhookDelivery.State.SUCCEEDED
    )
    outbox.sweep()
    assert scheduled == [(retry_lost.pk, 1, 3, 0.0)]  # the fresh one is within its grace period
    scheduled.clear()
    settings.OUTBOX_GRACE_SECONDS = 0
    outbox.sweep()
    assert scheduled == [(never_tried.pk, 1, 1, 0.0), (retry_lost.pk, 1, 3, 0.0)]


def test_the_command_and_the_beat_task_sweep(
    project, member, sent, settings, django_capture_on_commit_callbacks, capsys
):
    first = crash_after_commit(
        django_capture_on_commit_callbacks, lambda: make_task(project, member)
    )
    overdue(settings)
    call_command("dispatch_outbox")
    assert capsys.readouterr().out == "Dispatched 1 event(s).\n"
    second = crash_after_commit(
        django_capture_on_commit_callbacks, lambda: make_task(project, member)
    )
    overdue(settings)
    assert sweep_outbox() == 1
    assert sent == [(project.pk, str(first.pk)), (project.pk, str(second.pk))]


def test_celery_beat_runs_the_sweeper_every_interval(settings):
    entry = celery_app.conf.beat_schedule["sweep-outbox"]
    assert entry["task"] == "tasks.sweep_outbox"
    assert entry["schedule"] == settings.OUTBOX_SWEEP_INTERVAL_SECONDS
    assert "tasks.sweep_outbox" in celery_app.tasks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweepers_dispatch_each_event_once(project, member, sent, settings):
    """SELECT ... FOR UPDATE SKIP LOCKED: four sweepers at once share the work, never repeat it."""
    settings.OUTBOX_SWEEP_BATCH = 5
    for n in range(40):
        make_task(project, member, title=f"t{n}")
    OutboxEntry.objects.all().delete()
    ids = list(Event.objects.filter(project=project).values_list("pk", flat=True))
    OutboxEntry.objects.bulk_create(
        OutboxEntry(event_id=pk, available_at=timezone.now()) for pk in ids
    )
    sent.clear()
    barrier = threading.Barrier(4)

    def sweeper() -> None:
        try:
            barrier.wait()
            outbox.sweep()
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert sorted(int(event_id) for _, event_id in sent) == sorted(ids)
    assert not OutboxEntry.objects.exists()


# --- On a web process: dispatched on its event loop, after the answer ---------------------------


@pytest.mark.e2e
def test_a_write_is_answered_before_its_fan_out_runs(asgi_server, project, member, monkeypatch):
    """The dispatcher is held before it sends: the write's answer still arrives, the subscriber
    has nothing yet; released, the event arrives and the mark is gone."""
    token = make_token(member)
    task = make_task(project, member, title="Before")
    held = threading.Event()
    release = threading.Event()
    real_publish = outbox.LoopDispatcher._publish

    async def held_publish(self: outbox.LoopDispatcher, taken: outbox.Claim) -> None:
        held.set()
        assert await asyncio.to_thread(release.wait, WAIT)
        await real_publish(self, taken)

    monkeypatch.setattr(outbox.LoopDispatcher, "_publish", held_publish)
    ws = subscribe(asgi_server, f"/ws/projects/{project.pk}/", token)
    try:
        answer = rest(asgi_server, "PATCH", f"/api/v1/tasks/{task.pk}/", token, json={"title": "A"})
        assert answer.status_code == 200, answer.text
        assert held.wait(WAIT)  # the fan-out is waiting while the writer has its answer
        assert drain_quiet(ws) == []
        event = Event.objects.latest("id")
        assert OutboxEntry.objects.filter(event=event).exists()
        release.set()
        assert receive_event(ws)["id"] == str(event.pk)
    finally:
        release.set()
        ws.close()


@pytest.fixture
def handed_off(monkeypatch: pytest.MonkeyPatch) -> list[tuple[outbox.Pending, Any]]:
    """Every hand-off to a dispatcher: the event and the response that holds its local relay
    (not run: nothing counts these as scheduled)."""
    calls: list[tuple[outbox.Pending, Any]] = []

    def record(loop: Any, pending: outbox.Pending, response: Any = None) -> None:
        calls.append((pending, response))

    monkeypatch.setattr(outbox, "_hand_off", record)
    monkeypatch.setattr(outbox, "_scheduled", {})
    return calls


async def test_under_asgi_a_commit_is_handed_off_at_once_and_its_response_opens_at_the_last_byte(
    handed_off: list[tuple[outbox.Pending, Any]],
) -> None:
    first, late = outbox.Pending(1, 1, {"id": "1"}), outbox.Pending(2, 1, {"id": "2"})
    seen: list[tuple[int, bool]] = []

    def state() -> tuple[int, bool]:
        return len(handed_off), handed_off[0][1].sent

    async def app(scope: Any, receive: Any, send: Any) -> None:
        # Django's request signals run in the request's thread, as ASGIHandler sends them.
        await sync_to_async(outbox._request_started)()
        await sync_to_async(outbox.after_commit)(first)  # committed in the request's thread
        seen.append(state())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"o", "more_body": True})
        seen.append(state())
        await send({"type": "http.response.body", "body": b"k"})
        seen.append(state())
        await sync_to_async(outbox.after_commit)(late)  # after the answer (response.close())
        await sync_to_async(outbox._request_finished)()
        seen.append(state())

    async def send(message: dict[str, Any]) -> None:
        pass

    await outbox.RelayAfterResponse(app)({"type": "http"}, None, send)
    assert seen == [(1, False), (1, False), (1, True), (2, True)]
    assert [pending for pending, _response in handed_off] == [first, late]  # each once
    assert handed_off[0][1] is handed_off[1][1]  # the request's one response


async def test_a_request_without_a_complete_answer_still_opens_its_response(
    handed_off: list[tuple[outbox.Pending, Any]],
) -> None:
    pending = outbox.Pending(1, 1, {"id": "1"})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await sync_to_async(outbox.after_commit)(pending)
        raise ConnectionResetError  # the client went away before the answer

    with pytest.raises(ConnectionResetError):
        await outbox.RelayAfterResponse(app)({"type": "http"}, None, None)
    assert [(item, response.sent) for item, response in handed_off] == [(pending, True)]


class RecordingRelay:
    """A loop's `events.LocalRelay` that records what it relays."""

    origin = "this-process"

    def __init__(self) -> None:
        self.relayed: list[str] = []
        self.in_request_context = False

    def relay(self, project_id: int, payload: dict[str, Any]) -> None:
        self.relayed.append(payload["id"])
        self.in_request_context |= outbox._response_sent.get() is not None


@pytest.mark.django_db(transaction=True)
async def test_the_layer_gets_an_event_at_once_and_this_process_s_sockets_after_the_response(
    project, member, monkeypatch
):
    """The dispatcher publishes a request's event to the channel layer (the other processes)
    without waiting for the response, naming its loop's relay as the origin; the relay to the
    process's own sockets waits until the response's last byte is sent, and runs outside the
    request's context."""
    published: list[tuple[str, str | None]] = []

    async def record(
        payload: dict[str, Any], *, project_id: int, origin: str | None = None
    ) -> None:
        published.append((payload["id"], origin))

    monkeypatch.setattr(events, "publish_async", record)
    relay = RecordingRelay()
    events.relay_locally_on(asyncio.get_running_loop(), relay)
    event, pending = await sync_to_async(_committed_entry)(project, member)
    seen: list[tuple[list[tuple[str, str | None]], list[str]]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await sync_to_async(outbox.after_commit)(pending)
        for _ in range(WAIT * 20):  # the dispatcher runs on this loop meanwhile
            if published:
                break
            await asyncio.sleep(0.05)
        seen.append((list(published), list(relay.relayed)))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        await asyncio.sleep(0)  # the relay runs in a loop callback of its own
        seen.append((list(published), list(relay.relayed)))

    async def send(message: dict[str, Any]) -> None:
        pass

    dispatcher = outbox.loop_dispatcher()
    try:
        await outbox.RelayAfterResponse(app)({"type": "http"}, None, send)
        for _ in range(WAIT * 20):
            if not await sync_to_async(_entry_exists)(event.pk):
                break
            await asyncio.sleep(0.05)
    finally:
        dispatcher.worker.cancel()
    sent = [(str(event.pk), "this-process")]
    assert seen == [(sent, []), (sent, [str(event.pk)])]
    assert not relay.in_request_context  # the sockets' send tasks do not copy the request's
    assert not await sync_to_async(_entry_exists)(event.pk)


@pytest.mark.django_db(transaction=True)
async def test_the_in_process_sweeper_runs_on_the_server_loop(project, member, sent, settings):
    settings.OUTBOX_SWEEP_IN_PROCESS = True
    settings.OUTBOX_SWEEP_INTERVAL_SECONDS = 0.05
    settings.OUTBOX_GRACE_SECONDS = 0

    def lost_dispatch() -> int:
        """The mark of an event whose dispatch was lost (the fixtures' events were dispatched)."""
        try:
            event = Event.objects.filter(project=project).latest("id")
            OutboxEntry.objects.create(event=event, available_at=timezone.now())
            return event.pk
        finally:
            connection.close()

    served: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        served.append(scope["type"])

    event_id = await sync_to_async(lost_dispatch)()
    await outbox.SweepInProcess(app)({"type": "http"}, None, None)
    assert served == ["http"]
    dispatcher = outbox.loop_dispatcher()
    try:
        # The entry is deleted just after the send: wait for both before stopping the loop.
        for _ in range(WAIT * 20):
            if sent and not await sync_to_async(_entry_exists)(event_id):
                break
            await asyncio.sleep(0.05)
        assert sent == [(project.pk, str(event_id))]
        assert not await sync_to_async(_entry_exists)(event_id)
    finally:
        assert dispatcher.sweeper is not None
        dispatcher.sweeper.cancel()
        dispatcher.worker.cancel()


async def _dispatch_on_this_loop(pending: outbox.Pending, event_id: int) -> None:
    """Hands `pending` to this loop's dispatcher and waits until it is done with it."""
    dispatcher = outbox.loop_dispatcher()
    try:
        dispatcher.submit(pending)
        for _ in range(WAIT * 20):
            if dispatcher.queue.empty() and not await sync_to_async(_entry_fresh)(event_id):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)  # a send after the delete would still be seen
    finally:
        dispatcher.worker.cancel()


def _entry_fresh(event_id: int) -> bool:
    """The entry is still there and no sweeper claimed it."""
    try:
        return OutboxEntry.objects.filter(pk=event_id, claim__isnull=True).exists()
    finally:
        connection.close()


def _committed_entry(project: Any, member: Any) -> tuple[Event, outbox.Pending]:
    """A committed change whose after-commit dispatch never ran (the test hands it over)."""
    real_after_commit = outbox.after_commit
    outbox.after_commit = lambda pending: None  # type: ignore[assignment]
    try:
        with transaction.atomic():
            task = make_task(project, member)
        event = Event.objects.get(task_id=task.pk)
        return event, outbox.Pending(event.pk, project.pk, events.event_payload(event), False)
    finally:
        outbox.after_commit = real_after_commit  # type: ignore[assignment]
        connection.close()


@pytest.mark.django_db(transaction=True)
async def test_a_fresh_entry_is_sent_without_reading_it_back(project, member, sent, monkeypatch):
    """Handed to the dispatcher within half the grace period of its write, no sweeper can have
    claimed it: it is sent with no `claim` read, then its mark is deleted."""
    reads: list[int] = []
    real_claim = outbox.claim

    def counted_claim(batch: list[outbox.Pending]) -> outbox.Claim:
        reads.append(len(batch))
        return real_claim(batch)

    monkeypatch.setattr(outbox, "claim", counted_claim)
    event, pending = await sync_to_async(_committed_entry)(project, member)
    await _dispatch_on_this_loop(pending, event.pk)
    assert sent == [(project.pk, str(event.pk))]
    assert reads == []
    assert not await sync_to_async(_entry_exists)(event.pk)


@pytest.mark.django_db(transaction=True)
async def test_a_late_entry_that_a_sweeper_claimed_is_not_sent_again(
    project, member, sent, settings
):
    """Handed over late (past half the grace period), the entry is read back first: one a sweeper
    claimed meanwhile is left to that sweeper, neither sent nor deleted."""
    event, fresh = await sync_to_async(_committed_entry)(project, member)
    late = dataclasses.replace(fresh, written=time.monotonic() - settings.OUTBOX_GRACE_SECONDS)

    def sweeper_claims() -> list[int]:
        try:
            overdue(settings)
            return [item.event_id for item in outbox.claim_overdue(10).pending]
        finally:
            connection.close()

    assert await sync_to_async(sweeper_claims)() == [event.pk]
    await _dispatch_on_this_loop(late, event.pk)
    assert sent == []
    assert await sync_to_async(_entry_exists)(event.pk)


def _entry_exists(event_id: int) -> bool:
    try:
        return OutboxEntry.objects.filter(pk=event_id).exists()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
async def test_sent_marks_are_deleted_together_once_the_window_ends(
    project, member, sent, settings, monkeypatch
):
    """After-commit entries are completed OUTBOX_COMPLETE_DELAY_SECONDS after the first of them
    was sent, together, in one `complete`; the dispatcher sends the next events meanwhile, and
    `wait_idle` counts an event as done only once its mark is deleted."""
    settings.OUTBOX_COMPLETE_DELAY_SECONDS = 0.5
    completed: list[list[int]] = []
    real_complete = outbox.complete

    def recorded_complete(taken: outbox.Claim) -> None:
        completed.append([item.event_id for item in taken.pending])
        real_complete(taken)

    monkeypatch.setattr(outbox, "complete", recorded_complete)
    first, first_pending = await sync_to_async(_committed_entry)(project, member)
    second, second_pending = await sync_to_async(_committed_entry)(project, member)
    loop, dispatcher = _counting_dispatcher(monkeypatch, handed_over=2)
    try:
        dispatcher.submit(first_pending)
        await _until(lambda: len(sent) == 1)
        dispatcher.submit(second_pending)  # the first one's window is still open
        await _until(lambda: len(sent) == 2)
        assert completed == []
        assert await sync_to_async(_entry_exists)(first.pk)
        assert outbox._scheduled[loop] == 2  # sent, not complete: wait_idle still waits
        await _until(lambda: bool(completed))
        await _until(lambda: outbox._scheduled[loop] == 0)
        assert completed == [[first.pk, second.pk]]
        assert not await sync_to_async(_entry_exists)(first.pk)
        assert not await sync_to_async(_entry_exists)(second.pk)
    finally:
        dispatcher.worker.cancel()
    assert sent == [(project.pk, str(first.pk)), (project.pk, str(second.pk))]


@pytest.mark.django_db(transaction=True)
async def test_a_failed_completion_is_logged_and_counted_done(
    project, member, sent, settings, monkeypatch, caplog
):
    """The events were sent; their marks stay for the sweeper (it sends them again, at least
    once), and `wait_idle` does not wait for them forever."""
    settings.OUTBOX_COMPLETE_DELAY_SECONDS = 0

    def failing_complete(taken: outbox.Claim) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(outbox, "complete", failing_complete)
    event, pending = await sync_to_async(_committed_entry)(project, member)
    loop, dispatcher = _counting_dispatcher(monkeypatch, handed_over=1)
    try:
        dispatcher.submit(pending)
        await _until(lambda: outbox._scheduled[loop] == 0)
    finally:
        dispatcher.worker.cancel()
    assert sent == [(project.pk, str(event.pk))]
    assert [r.message for r in caplog.records] == ["outbox completion failed"]
    assert caplog.records[0].event_ids == [event.pk]  # type: ignore[attr-defined]
    assert await sync_to_async(_entry_exists)(event.pk)


def _counting_dispatcher(
    monkeypatch: pytest.MonkeyPatch, *, handed_over: int
) -> tuple[asyncio.AbstractEventLoop, outbox.LoopDispatcher]:
    """This loop's dispatcher, with `handed_over` events counted as handed to it (as
    `after_commit` counts them for `wait_idle`)."""
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(outbox, "_scheduled", {loop: handed_over})
    return loop, outbox.loop_dispatcher()


async def _until(condition: Any) -> None:
    for _ in range(WAIT * 100):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")
