"""Webhook services and selectors: roles, validation, the secret, which events become deliveries,
signing and the retry policy. HTTP deliveries are in test_webhooks_delivery.py."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date
from standardwebhooks import Webhook as StandardWebhook

from tasks import outbox, webhook_delivery, webhooks
from tasks.errors import NotFound, PermissionDenied, ValidationError
from tasks.events import event_payload
from tasks.models import Event, OutboxEntry, Webhook, WebhookAttempt, WebhookDelivery
from tasks.webhook_signing import decrypt_secret, encrypt_secret, generate_secret, sign
from tests.factories import make_task

URL = "https://hooks.example.com/taskhub"


def create(actor: Any, project: Any, **fields: Any) -> webhooks.CreatedWebhook:
    fields.setdefault("url", URL)
    return webhooks.webhook_create(actor=actor, project_id=project.pk, **fields)


@pytest.fixture
def hook(project: Any, admin: Any) -> Webhook:
    return create(admin, project).webhook


@pytest.fixture
def delivery(hook: Any, project: Any) -> WebhookDelivery:
    event = Event.objects.filter(project=project).first()
    assert event is not None
    return WebhookDelivery.objects.create(
        webhook=hook, event=event, event_type=event.type, payload=event_payload(event)
    )


# --- Creating, and the secret ---------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_creates_webhook_and_sees_the_secret_once(project: Any, admin: Any) -> None:
    created = create(admin, project, event_types=["task.created", "comment.created"])

    webhook = Webhook.objects.get(pk=created.webhook.pk)
    assert webhook.project_id == project.pk
    assert webhook.url == URL
    assert webhook.event_types == ["task.created", "comment.created"]
    assert webhook.active is True
    assert webhook.created_by == admin
    assert created.secret.startswith("whsec_")
    assert len(base64.b64decode(created.secret.removeprefix("whsec_"))) == 32
    # Stored encrypted, readable by the server only.
    assert created.secret not in webhook.encrypted_secret
    assert created.secret.removeprefix("whsec_") not in webhook.encrypted_secret
    assert decrypt_secret(webhook.encrypted_secret) == created.secret
    assert not hasattr(webhook, "secret")


@pytest.mark.django_db
def test_every_webhook_gets_its_own_secret(project: Any, admin: Any, owner: Any) -> None:
    assert create(admin, project).secret != create(owner, project).secret


@pytest.mark.django_db
def test_secret_survives_secret_key_rotation_through_fallbacks(settings: Any) -> None:
    secret = generate_secret()
    stored = encrypt_secret(secret)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-secret-key-for-rotation-0123456789abcdef"
    assert decrypt_secret(stored) == secret


@pytest.mark.django_db
def test_empty_event_types_mean_every_type(project: Any, admin: Any) -> None:
    webhook = create(admin, project).webhook
    assert webhook.event_types == []
    assert all(webhook.wants(event_type) for event_type in Event.Type.values)


# --- Roles ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_owner_manages_webhooks(project: Any, owner: Any) -> None:
    webhook = create(owner, project).webhook
    webhooks.webhook_update(actor=owner, webhook_id=webhook.pk, changes={"active": False})
    assert list(webhooks.project_webhooks(owner, project.pk)) == [webhook]
    assert webhooks.webhook_delete(actor=owner, webhook_id=webhook.pk) == webhook.pk


@pytest.mark.django_db
@pytest.mark.parametrize("role_fixture", ["member", "viewer"])
def test_members_below_admin_cannot_manage_or_read_webhooks(
    request: Any, project: Any, hook: Any, delivery: Any, role_fixture: str
) -> None:
    user = request.getfixturevalue(role_fixture)
    calls = [
        lambda: create(user, project),
        lambda: webhooks.webhook_update(actor=user, webhook_id=hook.pk, changes={"active": False}),
        lambda: webhooks.webhook_delete(actor=user, webhook_id=hook.pk),
        lambda: webhooks.webhook_redeliver(actor=user, delivery_id=delivery.pk),
        lambda: webhooks.project_webhooks(user, project.pk),
        lambda: webhooks.webhook_get(user, hook.pk),
        lambda: webhooks.webhook_deliveries(user, hook.pk),
        lambda: webhooks.webhook_delivery_get(user, delivery.pk),
        lambda: webhooks.delivery_attempts(user, delivery.pk),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    hook.refresh_from_db()
    assert hook.active is True
    assert Webhook.objects.count() == 1


@pytest.mark.django_db
def test_non_members_get_not_found_for_everything(
    project: Any, outsider: Any, hook: Any, delivery: Any
) -> None:
    calls = [
        lambda: create(outsider, project),
        lambda: webhooks.webhook_update(actor=outsider, webhook_id=hook.pk, changes={}),
        lambda: webhooks.webhook_delete(actor=outsider, webhook_id=hook.pk),
        lambda: webhooks.webhook_redeliver(actor=outsider, delivery_id=delivery.pk),
        lambda: webhooks.project_webhooks(outsider, project.pk),
        lambda: webhooks.webhook_get(outsider, hook.pk),
        lambda: webhooks.webhook_deliveries(outsider, hook.pk),
        lambda: webhooks.webhook_delivery_get(outsider, delivery.pk),
        lambda: webhooks.delivery_attempts(outsider, delivery.pk),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert Webhook.objects.filter(pk=hook.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", ["abc", None, "", 10**30, "1.5", 999_999])
def test_unknown_or_malformed_ids_are_not_found(admin: Any, project: Any, bad_id: Any) -> None:
    with pytest.raises(NotFound):
        webhooks.webhook_get(admin, bad_id)
    with pytest.raises(NotFound):
        webhooks.webhook_delivery_get(admin, bad_id)
    with pytest.raises(NotFound):
        webhooks.webhook_create(actor=admin, project_id=bad_id, url=URL)


# --- Validation -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"url": ""}, "url", "required"),
        ({"url": None}, "url", "required"),
        ({"url": 42}, "url", "required"),
        ({"url": "ftp://example.com/x"}, "url", "invalid"),
        ({"url": "javascript:alert(1)"}, "url", "invalid"),
        ({"url": "https://"}, "url", "invalid"),
        ({"url": "https://user:pw@example.com/"}, "url", "invalid"),
        ({"url": "https://example.com:99999/"}, "url", "invalid"),
        ({"url": "https://example.com/" + "a" * 2000}, "url", "too_long"),
        ({"url": "http://127.0.0.1:8000/"}, "url", "invalid"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "url", "invalid"),
        ({"url": "http://[::1]/"}, "url", "invalid"),
        ({"url": "http://10.0.0.1/"}, "url", "invalid"),
        ({"event_types": ["task.exploded"]}, "event_types", "invalid_choice"),
        ({"event_types": [1]}, "event_types", "invalid_choice"),
        ({"event_types": "task.created"}, "event_types", "invalid"),
        ({"event_types": {"a": 1}}, "event_types", "invalid"),
        ({"active": "yes"}, "active", "invalid"),
    ],
)
def test_invalid_input_is_rejected_with_codes(
    project: Any, admin: Any, fields: dict[str, Any], field: str, code: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        create(admin, project, **fields)
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == (field, code)
    assert not Webhook.objects.exists()


@pytest.mark.django_db
def test_every_problem_is_reported_at_once(project: Any, admin: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        create(admin, project, url="gopher://x", event_types=["nope"], active=None)
    assert {e.field for e in caught.value.errors} == {"url", "event_types", "active"}


@pytest.mark.django_db
def test_private_targets_are_accepted_when_the_development_setting_is_on(
    settings: Any, project: Any, admin: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert create(admin, project, url="http://127.0.0.1:8000/hook").webhook.pk


@pytest.mark.django_db
def test_duplicate_event_types_are_folded(project: Any, admin: Any) -> None:
    webhook = create(admin, project, event_types=["task.created", "task.created"]).webhook
    assert webhook.event_types == ["task.created"]


# --- Update, delete -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_changes_the_given_fields(admin: Any, hook: Any) -> None:
    updated = webhooks.webhook_update(
        actor=admin,
        webhook_id=hook.pk,
        changes={"url": "https://other.example.com/", "event_types": ["task.deleted"]},
    )
    hook.refresh_from_db()
    assert (hook.url, hook.event_types, hook.active) == (
        "https://other.example.com/",
        ["task.deleted"],
        True,
    )
    assert updated.url == hook.url


@pytest.mark.django_db
def test_update_rejects_unknown_and_invalid_fields_and_changes_nothing(
    admin: Any, hook: Any
) -> None:
    with pytest.raises(ValidationError) as caught:
        webhooks.webhook_update(actor=admin, webhook_id=hook.pk, changes={"secret": "x"})
    assert caught.value.codes == ["unknown_field"]
    with pytest.raises(ValidationError):
        webhooks.webhook_update(
            actor=admin, webhook_id=hook.pk, changes={"url": "https://ok.example.com", "active": 1}
        )
    hook.refresh_from_db()
    assert hook.url == URL


@pytest.mark.django_db
def test_reactivating_a_disabled_webhook_clears_the_failure_record(admin: Any, hook: Any) -> None:
    Webhook.objects.filter(pk=hook.pk).update(
        active=False,
        disabled_at=timezone.now(),
        disabled_reason="Disabled after 5 consecutive failed deliveries",
        consecutive_failures=5,
    )
    webhooks.webhook_update(actor=admin, webhook_id=hook.pk, changes={"active": True})
    hook.refresh_from_db()
    assert (hook.active, hook.disabled_at, hook.disabled_reason, hook.consecutive_failures) == (
        True,
        None,
        "",
        0,
    )


@pytest.mark.django_db
def test_delete_removes_the_webhook_and_its_delivery_log(
    admin: Any, hook: Any, delivery: Any
) -> None:
    WebhookAttempt.objects.create(delivery=delivery, sequence=1, number=1, status_code=500)
    assert webhooks.webhook_delete(actor=admin, webhook_id=hook.pk) == hook.pk
    assert not Webhook.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert not WebhookAttempt.objects.exists()


# --- Events become deliveries ---------------------------------------------------------------------


@pytest.mark.django_db
def test_committed_events_become_deliveries_for_matching_active_webhooks(
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    project: Any,
    admin: Any,
    member: Any,
) -> None:
    scheduled: list[tuple[int, int, int, float]] = []
    monkeypatch.setattr(webhook_delivery, "schedule", lambda *args: scheduled.append(args))
    every = create(admin, project).webhook
    tasks_only = create(admin, project, event_types=["task.created"]).webhook
    create(admin, project, event_types=["comment.created"])
    create(admin, project, active=False)

    with django_capture_on_commit_callbacks(execute=True):
        task = make_task(project, member, title="Ship it")

    event = Event.objects.get(type="task.created", task_id=task.pk)
    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert [d.webhook_id for d in deliveries] == [every.pk, tasks_only.pk]
    for delivery in deliveries:
        assert delivery.event_id == event.pk
        assert delivery.event_type == "task.created"
        assert delivery.payload == event_payload(event)
        assert delivery.state == WebhookDelivery.State.PENDING
        assert delivery.message_id.startswith("msg_")
    assert scheduled == [(d.pk, 1, 1, 0.0) for d in deliveries]


@pytest.mark.django_db
def test_a_change_looks_its_webhooks_up_only_when_its_project_has_an_active_one(
    monkeypatch: pytest.MonkeyPatch, project: Any, admin: Any, member: Any
) -> None:
    """The `seq` upsert answers whether an active webhook exists (tasks.events._next_seq): a
    project without one costs no webhook query, and one that has one still gets its delivery."""
    lookups: list[int] = []
    real_create_for_event = webhook_delivery.create_for_event

    def counted(payload: dict[str, Any], *, project_id: int) -> list[WebhookDelivery]:
        lookups.append(project_id)
        return real_create_for_event(payload, project_id=project_id)

    monkeypatch.setattr(webhook_delivery, "create_for_event", counted)
    with CaptureQueriesContext(connection) as captured:
        make_task(project, member)
    assert lookups == []
    assert not [
        q for q in captured.captured_queries if q["sql"].startswith('SELECT "tasks_webhook"')
    ]

    create(admin, project, active=False)
    make_task(project, member)
    assert lookups == []

    hook = create(admin, project).webhook
    task = make_task(project, member)
    assert lookups == [project.pk]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.webhook_id, delivery.event_id) == (
        hook.pk,
        Event.objects.get(type="task.created", task_id=task.pk).pk,
    )


@pytest.mark.django_db
def test_deliveries_are_written_with_the_change_and_scheduled_only_after_commit(
    monkeypatch: pytest.MonkeyPatch, project: Any, admin: Any, member: Any
) -> None:
    """The transactional outbox: a crash after the commit cannot lose a delivery."""
    monkeypatch.setattr(webhook_delivery, "schedule", lambda *args: pytest.fail("scheduled"))
    hook = create(admin, project).webhook
    task = make_task(project, member)  # the test's transaction never commits
    event = Event.objects.get(type="task.created", task_id=task.pk)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.webhook_id, delivery.event_id) == (hook.pk, event.pk)
    assert (delivery.state, delivery.attempt_count) == (WebhookDelivery.State.PENDING, 0)
    assert OutboxEntry.objects.filter(event=event).exists()


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_delivery(
    monkeypatch: pytest.MonkeyPatch, project: Any, admin: Any, member: Any
) -> None:
    monkeypatch.setattr(webhook_delivery, "schedule", lambda *args: pytest.fail("scheduled"))
    create(admin, project)
    pending = OutboxEntry.objects.count()  # the fixtures' own events, never committed here
    with pytest.raises(RuntimeError), transaction.atomic():
        make_task(project, member)
        raise RuntimeError("rolled back")
    assert not WebhookDelivery.objects.exists()
    assert OutboxEntry.objects.count() == pending


@pytest.mark.django_db
def test_a_failing_enqueue_does_not_break_the_change_and_the_sweeper_schedules_it(
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    project: Any,
    admin: Any,
    member: Any,
    caplog: Any,
) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("broker down")

    create(admin, project)
    monkeypatch.setattr(webhook_delivery, "schedule", explode)
    with django_capture_on_commit_callbacks(execute=True):
        task = make_task(project, member)
    event = Event.objects.get(task_id=task.pk)
    assert "webhook enqueue failed" in caplog.text
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.attempt_count == 0

    scheduled: list[tuple[int, ...]] = []
    monkeypatch.setattr(webhook_delivery, "schedule", lambda *args: scheduled.append(args))
    outbox.sweep()
    assert scheduled == []  # still within its grace period
    settings.OUTBOX_GRACE_SECONDS = 0
    outbox.sweep()
    assert scheduled == [(delivery.pk, 1, 1, 0.0)]


# --- Selectors ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_selectors_list_webhooks_deliveries_and_attempts(
    admin: Any, project: Any, hook: Any, delivery: Any
) -> None:
    second = create(admin, project).webhook
    WebhookAttempt.objects.create(delivery=delivery, sequence=1, number=1, status_code=500)
    WebhookAttempt.objects.create(delivery=delivery, sequence=1, number=2, status_code=200)

    assert list(webhooks.project_webhooks(admin, project.pk)) == [hook, second]
    assert webhooks.webhook_get(admin, str(hook.pk)) == hook
    listed = list(webhooks.webhook_deliveries(admin, hook.pk))
    assert listed == [delivery]
    assert [a.status_code for a in listed[0].attempts.all()] == [500, 200]
    assert [a.succeeded for a in webhooks.delivery_attempts(admin, delivery.pk)] == [False, True]
    assert list(webhooks.webhook_deliveries(admin, second.pk)) == []


@pytest.mark.django_db
def test_redeliver_starts_a_new_sequence(
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    admin: Any,
    delivery: Any,
) -> None:
    scheduled: list[tuple[int, ...]] = []
    monkeypatch.setattr(webhook_delivery, "schedule", lambda *args: scheduled.append(args))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.FAILED, attempt_count=3, last_error="HTTP 500"
    )
    with django_capture_on_commit_callbacks(execute=True):
        redelivered = webhooks.webhook_redeliver(actor=admin, delivery_id=delivery.pk)
    assert (redelivered.sequence, redelivered.attempt_count, redelivered.state) == (
        2,
        0,
        WebhookDelivery.State.PENDING,
    )
    assert redelivered.message_id == delivery.message_id
    assert scheduled == [(delivery.pk, 2, 1, 0.0)]


@pytest.mark.django_db
def test_redeliver_to_an_inactive_webhook_is_refused(admin: Any, hook: Any, delivery: Any) -> None:
    webhooks.webhook_update(actor=admin, webhook_id=hook.pk, changes={"active": False})
    with pytest.raises(ValidationError):
        webhooks.webhook_redeliver(actor=admin, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.sequence == 1


# --- Signing and the retry policy -----------------------------------------------------------------


def test_signature_is_the_standard_webhooks_one() -> None:
    secret = generate_secret()
    body = b'{"id":"1","type":"task.created"}'
    signature = sign(secret, message_id="msg_1", timestamp=1_700_000_000, body=body)
    expected = StandardWebhook(secret).sign(
        "msg_1", datetime.fromtimestamp(1_700_000_000, tz=UTC), body.decode()
    )
    assert signature == expected


def test_backoff_is_exponential_with_jitter_and_capped(settings: Any) -> None:
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 10
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 60
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        delays = [webhook_delivery.backoff_delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len({webhook_delivery.backoff_delay(3) for _ in range(20)}) > 1  # jittered


def test_retry_after_is_parsed_and_capped(settings: Any) -> None:
    settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS = 120
    parse = webhook_delivery.parse_retry_after
    assert parse("7") == 7.0
    assert parse(None) is None
    assert parse("soon") is None
    assert parse("-3") is None
    in_a_minute = http_date((timezone.now() + timedelta(seconds=60)).timestamp())
    assert 50 <= (parse(in_a_minute) or 0) <= 60
    assert parse(http_date((timezone.now() - timedelta(hours=1)).timestamp())) == 0.0
    assert webhook_delivery.retry_delay(1, 7.0) == 7.0
    assert webhook_delivery.retry_delay(1, 10_000.0) == 120.0
