"""Webhooks over REST: thin adapters over `tasks.webhooks`. Admin-only (member 403, outsider 404),
validation problems, the secret shown once, the delivery log with its attempts, redeliver."""

from __future__ import annotations

from typing import Any

import pytest
from graphql_relay import to_global_id

from tasks import webhooks
from tasks.events import event_payload
from tasks.models import Event, Webhook, WebhookAttempt, WebhookDelivery
from tasks.webhook_signing import decrypt_secret
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/taskhub"


@pytest.fixture
def hook(project: Any, admin: Any) -> Webhook:
    return webhooks.webhook_create(actor=admin, project_id=project.pk, url=URL).webhook


@pytest.fixture
def delivery(hook: Webhook, project: Any) -> WebhookDelivery:
    """A delivery that failed once with a 500 and then succeeded."""
    event = Event.objects.filter(project=project).first()
    assert event is not None
    delivery = WebhookDelivery.objects.create(
        webhook=hook,
        event=event,
        event_type=event.type,
        payload=event_payload(event),
        state=WebhookDelivery.State.SUCCEEDED,
        attempt_count=2,
        last_status_code=204,
    )
    WebhookAttempt.objects.create(
        delivery=delivery, sequence=1, number=1, status_code=500, error="HTTP 500", duration_ms=12
    )
    WebhookAttempt.objects.create(
        delivery=delivery, sequence=1, number=2, status_code=204, duration_ms=8
    )
    return delivery


# --- Create, and the secret -----------------------------------------------------------------------


def test_admin_creates_a_webhook_and_sees_the_secret_once(
    api: Any, project: Any, admin: Any
) -> None:
    client = api(admin)
    response = client.post(
        f"projects/{project.pk}/webhooks/",
        {"url": URL, "event_types": ["task.created", "comment.created"], "active": True},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    webhook = Webhook.objects.get()
    assert body["id"] == webhook.pk
    assert body["node_id"] == to_global_id("Webhook", webhook.pk)
    assert body["project"] == project.pk
    assert body["url"] == URL
    assert body["event_types"] == ["task.created", "comment.created"]
    assert body["active"] is True and body["disabled_at"] is None
    assert body["created_by"] == admin.pk
    assert body["secret"].startswith("whsec_")
    assert decrypt_secret(webhook.encrypted_secret) == body["secret"]
    assert response["Location"].endswith(f"/api/v1/webhooks/{webhook.pk}/")
    assert response["Cache-Control"] == "no-store"

    # Never again: not in the detail, the list, an update, nor the delivery log.
    secret = body["secret"]
    detail = client.get(f"webhooks/{webhook.pk}/")
    listing = client.get(f"projects/{project.pk}/webhooks/")
    patched = client.patch(f"webhooks/{webhook.pk}/", {"active": False})
    for later in (detail, listing, patched):
        assert later.status_code == 200
        assert secret not in later.content.decode()
        assert b"secret" not in later.content
    assert listing.json()["count"] == 1


def test_defaults_every_event_type_and_active(api: Any, project: Any, owner: Any) -> None:
    body = api(owner).post(f"projects/{project.pk}/webhooks/", {"url": URL}).json()
    assert body["event_types"] == [] and body["active"] is True


def test_v2_nests_the_creator_and_links(api: Any, project: Any, admin: Any) -> None:
    client = api(admin, version="v2")
    body = client.post(f"projects/{project.pk}/webhooks/", {"url": URL}).json()

    assert body["created_by"]["username"] == "adam"
    assert body["secret"].startswith("whsec_")
    rels = {link["rel"]: link for link in body["links"]}
    assert rels["deliveries"]["href"].endswith(f"/api/v2/webhooks/{body['id']}/deliveries/")
    assert rels["update"]["method"] == "PATCH"
    detail = client.get(f"webhooks/{body['id']}/")
    assert detail["API-Version"] == "v2"
    assert "secret" not in detail.json() and "links" in detail.json()


def test_an_idempotent_replay_of_create_does_not_keep_the_secret(
    api: Any, project: Any, admin: Any
) -> None:
    client = api(admin)
    path = f"projects/{project.pk}/webhooks/"
    first = client.post(path, {"url": URL}, HTTP_IDEMPOTENCY_KEY="hook-1")
    again = client.post(path, {"url": URL}, HTTP_IDEMPOTENCY_KEY="hook-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["secret"].startswith("whsec_")
    assert again.json()["secret"] is None
    assert again.json()["id"] == first.json()["id"]
    assert Webhook.objects.count() == 1


# --- Validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({}, "url", "required"),
        ({"url": ""}, "url", "required"),
        ({"url": "ftp://example.com/x"}, "url", "invalid"),
        ({"url": "http://127.0.0.1/hook"}, "url", "invalid"),
        ({"url": "http://169.254.169.254/latest"}, "url", "invalid"),
        ({"url": "https://user:pw@example.com/"}, "url", "invalid"),
        ({"url": "x" * 2001}, "url", "too_long"),
        ({"url": 12}, "url", "invalid"),
        ({"url": URL, "event_types": ["task.exploded"]}, "event_types", "invalid_choice"),
        ({"url": URL, "event_types": "task.created"}, "event_types", "not_a_list"),
        ({"url": URL, "active": "yes"}, "active", "invalid"),
        ({"url": URL, "secret": "mine"}, "secret", "unknown_field"),
        ({"url": URL, "project": 99}, "project", "unknown_field"),
    ],
)
def test_create_validation_problems(
    api: Any, project: Any, admin: Any, payload: dict[str, Any], field: str, code: str
) -> None:
    response = api(admin).post(f"projects/{project.pk}/webhooks/", payload)

    body = assert_problem(response, 400, "invalid")
    assert (field, code) in [(p["name"], p["code"]) for p in body["invalid_params"]], body
    assert field in body["errors"]
    assert not Webhook.objects.exists()


def test_update_changes_fields_and_validates(api: Any, hook: Webhook, admin: Any) -> None:
    client = api(admin)
    response = client.patch(
        f"webhooks/{hook.pk}/",
        {"url": "https://other.example.com/in", "event_types": ["task.deleted"], "active": False},
    )
    assert response.status_code == 200, response.content
    assert response.json()["url"] == "https://other.example.com/in"
    assert response.json()["event_types"] == ["task.deleted"]
    assert response.json()["active"] is False

    bad = client.patch(f"webhooks/{hook.pk}/", {"url": "http://10.0.0.1/", "active": True})
    body = assert_problem(bad, 400, "invalid")
    assert [p["name"] for p in body["invalid_params"]] == ["url"]
    hook.refresh_from_db()
    assert hook.url == "https://other.example.com/in" and hook.active is False  # nothing changed

    assert client.patch(f"webhooks/{hook.pk}/", {"event_types": None}).json()["event_types"] == []


def test_reactivating_clears_the_disablement(api: Any, hook: Webhook, admin: Any) -> None:
    from django.utils import timezone

    Webhook.objects.filter(pk=hook.pk).update(
        active=False,
        disabled_at=timezone.now(),
        disabled_reason="5 failures",
        consecutive_failures=5,
    )
    disabled = api(admin).get(f"webhooks/{hook.pk}/").json()
    assert disabled["disabled_reason"] == "5 failures" and disabled["disabled_at"]

    body = api(admin).patch(f"webhooks/{hook.pk}/", {"active": True}).json()

    assert body["active"] is True and body["disabled_at"] is None
    assert body["disabled_reason"] == "" and body["consecutive_failures"] == 0


def test_delete(api: Any, hook: Webhook, delivery: WebhookDelivery, admin: Any) -> None:
    client = api(admin)
    assert client.delete(f"webhooks/{hook.pk}/").status_code == 204
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()
    assert_problem(client.get(f"webhooks/{hook.pk}/"), 404, "not_found")


# --- Who may ----------------------------------------------------------------------------------


def _every_request(hook: Webhook, delivery: WebhookDelivery) -> list[tuple[str, str, Any]]:
    return [
        ("get", f"projects/{hook.project_id}/webhooks/", None),
        ("post", f"projects/{hook.project_id}/webhooks/", {"url": URL}),
        ("get", f"webhooks/{hook.pk}/", None),
        ("patch", f"webhooks/{hook.pk}/", {"active": False}),
        ("delete", f"webhooks/{hook.pk}/", None),
        ("get", f"webhooks/{hook.pk}/deliveries/", None),
        ("get", f"deliveries/{delivery.pk}/", None),
        ("post", f"deliveries/{delivery.pk}/redeliver/", None),
    ]


def _send(client: Any, method: str, path: str, data: Any) -> Any:
    if method in {"get", "delete"}:
        return getattr(client, method)(path)
    return getattr(client, method)(path, data)


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_members_below_admin_are_forbidden(
    api: Any, hook: Webhook, delivery: WebhookDelivery, who: str, request: Any
) -> None:
    client = api(request.getfixturevalue(who))
    for method, path, data in _every_request(hook, delivery):
        assert_problem(_send(client, method, path, data), 403, "permission_denied")
    hook.refresh_from_db()
    assert hook.active is True and Webhook.objects.count() == 1
    delivery.refresh_from_db()
    assert delivery.sequence == 1


def test_outsiders_get_not_found_for_everything(
    api: Any, hook: Webhook, delivery: WebhookDelivery, outsider: Any
) -> None:
    client = api(outsider)
    for method, path, data in _every_request(hook, delivery):
        assert_problem(_send(client, method, path, data), 404, "not_found")
    assert Webhook.objects.count() == 1


def test_unknown_ids_are_not_found(api: Any, project: Any, admin: Any) -> None:
    client = api(admin)
    for path in ("projects/999999/webhooks/", "webhooks/999999/", "deliveries/999999/"):
        assert_problem(client.get(path), 404, "not_found")


def test_read_scope_cannot_create(api: Any, project: Any, admin: Any) -> None:
    response = api(admin, scope="read").post(f"projects/{project.pk}/webhooks/", {"url": URL})
    assert_problem(response, 403)
    assert not Webhook.objects.exists()


# --- The delivery log -----------------------------------------------------------------------------


def test_deliveries_are_listed_with_their_attempts(
    api: Any, hook: Webhook, delivery: WebhookDelivery, admin: Any
) -> None:
    response = api(admin).get(f"webhooks/{hook.pk}/deliveries/", {"page_size": 10})

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 1 and page["next"] is None
    item = page["results"][0]
    assert item["id"] == delivery.pk
    assert item["node_id"] == to_global_id("WebhookDelivery", delivery.pk)
    assert item["message_id"] == delivery.message_id
    assert item["state"] == "succeeded" and item["attempt_count"] == 2
    assert item["payload"]["type"] == delivery.event_type
    assert [(a["number"], a["status_code"], a["succeeded"]) for a in item["attempts"]] == [
        (1, 500, False),
        (2, 204, True),
    ]
    assert item["attempts"][0]["error"] == "HTTP 500"


def test_delivery_detail_has_its_attempts(api: Any, delivery: WebhookDelivery, admin: Any) -> None:
    body = api(admin, version="v2").get(f"deliveries/{delivery.pk}/").json()

    assert body["webhook"] == delivery.webhook_id
    assert [a["status_code"] for a in body["attempts"]] == [500, 204]
    rels = {link["rel"]: link for link in body["links"]}
    assert rels["redeliver"] == {
        "rel": "redeliver",
        "href": rels["redeliver"]["href"],
        "method": "POST",
    }
    assert rels["redeliver"]["href"].endswith(f"/api/v2/deliveries/{delivery.pk}/redeliver/")


def test_deliveries_page_by_number(api: Any, hook: Webhook, project: Any, admin: Any) -> None:
    event = Event.objects.filter(project=project).first()
    for _ in range(3):
        WebhookDelivery.objects.create(webhook=hook, event=event, event_type=event.type)
    first = api(admin).get(f"webhooks/{hook.pk}/deliveries/", {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    ids = [d["id"] for d in first["results"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert_problem(api(admin).get(f"webhooks/{hook.pk}/deliveries/", {"page": 9}), 404)


def test_redeliver_starts_a_new_sequence(
    api: Any,
    delivery: WebhookDelivery,
    admin: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scheduled: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        "tasks.webhook_delivery.schedule", lambda *args, **kw: scheduled.append(args)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api(admin).post(f"deliveries/{delivery.pk}/redeliver/")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["id"] == delivery.pk and body["message_id"] == delivery.message_id
    assert body["state"] == "pending" and body["sequence"] == 2 and body["attempt_count"] == 0
    assert [a["status_code"] for a in body["attempts"]] == [500, 204]  # the log is kept
    assert scheduled and scheduled[0][:2] == (delivery.pk, 2)


def test_redelivering_for_an_inactive_webhook_is_a_problem(
    api: Any, hook: Webhook, delivery: WebhookDelivery, admin: Any
) -> None:
    Webhook.objects.filter(pk=hook.pk).update(active=False)
    body = assert_problem(api(admin).post(f"deliveries/{delivery.pk}/redeliver/"), 400, "invalid")
    assert "webhook" in body["errors"]
    delivery.refresh_from_db()
    assert delivery.sequence == 1
