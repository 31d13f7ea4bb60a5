"""Webhooks over GraphQL with a real client (gql) against the live server: the four mutations,
`Project.webhooks`, the delivery log, who may, and one delivery end to end to a real receiver."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from graphql_relay import to_global_id
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook as StandardWebhook

from tasks import webhook_delivery, webhooks
from tasks.events import event_payload
from tasks.models import Event, Webhook, WebhookAttempt, WebhookDelivery
from tests.factories import make_token
from tests.tasks.test_webhooks_delivery import fast, listen, settle, worker  # noqa: F401

from .graphql_client import client_for, codes, run, run_error

pytestmark = pytest.mark.e2e

URL = "https://hooks.example.com/taskhub"
ERRORS = "errors { field code message }"
WEBHOOK = "id url eventTypes active disabledAt disabledReason createdAt"
CREATE = f"""
mutation($input: CreateWebhookInput!) {{
  createWebhook(input: $input) {{ webhook {{ {WEBHOOK} }} secret {ERRORS} }}
}}"""
UPDATE = f"""
mutation($input: UpdateWebhookInput!) {{
  updateWebhook(input: $input) {{ webhook {{ {WEBHOOK} }} {ERRORS} }}
}}"""
DELETE = f"""
mutation($input: DeleteWebhookInput!) {{ deleteWebhook(input: $input) {{ deletedId {ERRORS} }} }}
"""
REDELIVER = f"""
mutation($input: RedeliverWebhookDeliveryInput!) {{
  redeliverWebhookDelivery(input: $input) {{
    delivery {{ id state sequence attemptCount messageId attempts {{ number statusCode }} }}
    {ERRORS}
  }}
}}"""
PROJECT_WEBHOOKS = """
query($id: ID!) { project(id: $id) { viewerRole webhooks { id url } } }"""
DELIVERIES = """
query($id: ID!) {
  node(id: $id) {
    ... on Webhook {
      url
      deliveries(first: 10) {
        totalCount
        pageInfo { hasNextPage }
        edges { cursor node {
          id eventType state attemptCount lastStatusCode lastError createdAt completedAt
          messageId payload webhook { id }
          attempts { sequence number statusCode succeeded durationMs error createdAt }
        } }
      }
    }
  }
}"""


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


def create(client: Any, project: Any, **input: Any) -> dict[str, Any]:
    input.setdefault("url", URL)
    return run(client, CREATE, input={"projectId": gid("Project", project.pk), **input})[
        "createWebhook"
    ]


def seeded_delivery(hook: Webhook) -> WebhookDelivery:
    event = Event.objects.filter(project_id=hook.project_id).first()
    assert event is not None
    delivery = WebhookDelivery.objects.create(
        webhook=hook,
        event=event,
        event_type=event.type,
        payload=event_payload(event),
        state=WebhookDelivery.State.FAILED,
        attempt_count=1,
        last_status_code=503,
        last_error="HTTP 503",
    )
    WebhookAttempt.objects.create(
        delivery=delivery, sequence=1, number=1, status_code=503, error="HTTP 503"
    )
    return delivery


def test_admin_manages_a_webhook(asgi_server: Any, project: Any, admin: Any, member: Any):
    client = client_for(asgi_server, make_token(admin))

    created = create(client, project, eventTypes=["task.created", "task.updated"])

    assert created["errors"] == []
    assert created["secret"].startswith("whsec_")
    hook = created["webhook"]
    stored = Webhook.objects.get()
    assert hook["id"] == gid("Webhook", stored.pk)
    assert hook["url"] == URL and hook["active"] is True
    assert hook["eventTypes"] == ["task.created", "task.updated"]
    assert hook["disabledAt"] is None and hook["disabledReason"] is None

    listed = run(client, PROJECT_WEBHOOKS, id=gid("Project", project.pk))["project"]
    assert listed["webhooks"] == [{"id": hook["id"], "url": URL}]
    # Members see an empty list, not an error; the secret is no field of Webhook at all.
    as_member = run(
        client_for(asgi_server, make_token(member)), PROJECT_WEBHOOKS, id=gid("Project", project.pk)
    )
    assert as_member["project"] == {"viewerRole": "MEMBER", "webhooks": []}
    no_secret = run_error(
        client, "query($id: ID!) { node(id: $id) { ... on Webhook { secret } } }", id=hook["id"]
    )
    assert codes(no_secret) == ["GRAPHQL_VALIDATION_FAILED"]

    updated = run(
        client, UPDATE, input={"id": hook["id"], "url": "https://b.example.com/", "active": False}
    )["updateWebhook"]
    assert updated["errors"] == []
    assert updated["webhook"]["url"] == "https://b.example.com/"
    assert updated["webhook"]["active"] is False
    assert updated["webhook"]["eventTypes"] == ["task.created", "task.updated"]  # untouched
    cleared = run(client, UPDATE, input={"id": hook["id"], "eventTypes": None})["updateWebhook"]
    assert cleared["webhook"]["eventTypes"] == []

    deleted = run(client, DELETE, input={"id": hook["id"]})["deleteWebhook"]
    assert deleted == {"deletedId": hook["id"], "errors": []}
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("input", "expected"),
    [
        ({"url": "http://127.0.0.1:8000/hook"}, ("url", "INVALID")),
        ({"url": "http://[::1]/hook"}, ("url", "INVALID")),
        ({"url": "gopher://example.com/"}, ("url", "INVALID")),
        ({"url": "   "}, ("url", "REQUIRED")),
        ({"url": URL, "eventTypes": ["task.exploded"]}, ("eventTypes", "INVALID_CHOICE")),
    ],
)
def test_validation_problems_are_user_errors(
    asgi_server: Any, project: Any, owner: Any, input: dict[str, Any], expected: tuple[str, str]
):
    created = create(client_for(asgi_server, make_token(owner)), project, **input)

    assert created["webhook"] is None and created["secret"] is None
    assert [(e["field"], e["code"]) for e in created["errors"]] == [expected]
    assert not Webhook.objects.exists()


def test_update_validation_changes_nothing(asgi_server: Any, project: Any, admin: Any):
    hook = webhooks.webhook_create(actor=admin, project_id=project.pk, url=URL).webhook
    client = client_for(asgi_server, make_token(admin))

    result = run(
        client,
        UPDATE,
        input={"id": gid("Webhook", hook.pk), "url": "http://10.0.0.1/", "active": False},
    )["updateWebhook"]

    assert result["webhook"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("url", "INVALID")]
    hook.refresh_from_db()
    assert hook.url == URL and hook.active is True


def test_members_are_forbidden_and_outsiders_not_found(
    asgi_server: Any, project: Any, admin: Any, member: Any, viewer: Any, outsider: Any
):
    hook = webhooks.webhook_create(actor=admin, project_id=project.pk, url=URL).webhook
    delivery = seeded_delivery(hook)
    operations = [
        (CREATE, {"projectId": gid("Project", project.pk), "url": URL}),
        (UPDATE, {"id": gid("Webhook", hook.pk), "active": False}),
        (DELETE, {"id": gid("Webhook", hook.pk)}),
        (REDELIVER, {"id": gid("WebhookDelivery", delivery.pk)}),
    ]
    for user, code in ((member, "FORBIDDEN"), (viewer, "FORBIDDEN"), (outsider, "NOT_FOUND")):
        client = client_for(asgi_server, make_token(user))
        for query, input in operations:
            assert codes(run_error(client, query, input=input)) == [code], (user, query)
        for node_id in (gid("Webhook", hook.pk), gid("WebhookDelivery", delivery.pk)):
            error = run_error(client, "query($id: ID!) { node(id: $id) { id } }", id=node_id)
            assert codes(error) == [code]
    assert Webhook.objects.count() == 1
    hook.refresh_from_db()
    assert hook.active is True
    delivery.refresh_from_db()
    assert delivery.sequence == 1


def test_deliveries_with_attempts_and_redeliver(
    asgi_server: Any, project: Any, admin: Any, monkeypatch: pytest.MonkeyPatch
):
    hook = webhooks.webhook_create(actor=admin, project_id=project.pk, url=URL).webhook
    delivery = seeded_delivery(hook)
    client = client_for(asgi_server, make_token(admin))

    log = run(client, DELIVERIES, id=gid("Webhook", hook.pk))["node"]["deliveries"]

    assert log["totalCount"] == 1 and log["pageInfo"]["hasNextPage"] is False
    node = log["edges"][0]["node"]
    assert node["id"] == gid("WebhookDelivery", delivery.pk)
    assert node["webhook"] == {"id": gid("Webhook", hook.pk)}
    assert (node["state"], node["attemptCount"], node["lastStatusCode"]) == ("FAILED", 1, 503)
    assert node["lastError"] == "HTTP 503" and node["messageId"] == delivery.message_id
    assert node["payload"]["type"] == delivery.event_type
    assert [(a["number"], a["statusCode"], a["succeeded"]) for a in node["attempts"]] == [
        (1, 503, False)
    ]

    scheduled: list[tuple[Any, ...]] = []
    monkeypatch.setattr(webhook_delivery, "schedule", lambda *args: scheduled.append(args))
    result = run(client, REDELIVER, input={"id": node["id"]})["redeliverWebhookDelivery"]

    assert result["errors"] == []
    assert result["delivery"]["state"] == "PENDING" and result["delivery"]["sequence"] == 2
    assert result["delivery"]["messageId"] == delivery.message_id
    assert result["delivery"]["attempts"] == [{"number": 1, "statusCode": 503}]
    assert scheduled == [(delivery.pk, 2, 1, 0.0)]

    Webhook.objects.filter(pk=hook.pk).update(active=False)
    refused = run(client, REDELIVER, input={"id": node["id"]})["redeliverWebhookDelivery"]
    assert refused["delivery"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("webhook", "INVALID")]


def test_an_idempotent_create_replay_does_not_keep_the_secret(
    asgi_server: Any, project: Any, admin: Any
):
    body = {
        "query": CREATE,
        "variables": {"input": {"projectId": gid("Project", project.pk), "url": URL}},
    }
    headers = {"Authorization": f"Bearer {make_token(admin)}", "Idempotency-Key": "hook-1"}
    first = httpx.post(f"{asgi_server.url}/graphql", json=body, headers=headers, timeout=20)
    again = httpx.post(f"{asgi_server.url}/graphql", json=body, headers=headers, timeout=20)

    created = first.json()["data"]["createWebhook"]
    replayed = again.json()["data"]["createWebhook"]
    assert created["secret"].startswith("whsec_")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert replayed["secret"] is None
    assert replayed["webhook"] == created["webhook"]
    assert Webhook.objects.count() == 1


@pytest.mark.usefixtures("worker")
def test_a_webhook_made_over_graphql_receives_a_signed_event(
    asgi_server: Any, project: Any, admin: Any, httpserver: HTTPServer
):
    receiver = listen(httpserver)
    client = client_for(asgi_server, make_token(admin))
    created = create(client, project, url=httpserver.url_for("/hook"), eventTypes=["task.created"])
    assert created["errors"] == []

    task = run(
        client,
        "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } errors { code } } }",
        i={"projectId": gid("Project", project.pk), "title": "Hooked"},
    )["createTask"]["task"]

    delivery = settle(webhook__url=httpserver.url_for("/hook"))
    headers, body, _ = receiver.requests[0]
    verified = StandardWebhook(created["secret"]).verify(body, headers)
    assert verified["type"] == "task.created"
    assert json.loads(body)["taskId"] == task["id"]

    log = run(client, DELIVERIES, id=created["webhook"]["id"])["node"]["deliveries"]
    node = log["edges"][0]["node"]
    assert node["id"] == gid("WebhookDelivery", delivery.pk)
    assert node["state"] == "SUCCEEDED" and node["eventType"] == "task.created"
    assert [a["statusCode"] for a in node["attempts"]] == [200]
