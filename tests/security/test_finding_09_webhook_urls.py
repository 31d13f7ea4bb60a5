"""Finding 9: webhook URLs are judged when saved as they are at delivery: encoded IPv4 forms
(integer, octal, hex) are the addresses the resolver would connect to, single-label and internal
names are refused, on REST and GraphQL alike with the shared `invalid` code. The delivery log
never shows what a name resolved to, nor the resolver's own error text."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.test import Client
from graphql_relay import to_global_id

from tasks import webhook_delivery, webhooks
from tests.api.conftest import Api
from tests.factories import make_task, make_token
from tests.graph.helpers import post

pytestmark = pytest.mark.django_db

REFUSED_URLS = [
    "http://2130706433/",  # 127.0.0.1
    "http://2852039166/latest/meta-data/",  # 169.254.169.254, cloud metadata
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1:8080/",
    "http://vm/",
    "http://localhost./",
    "http://metadata.google.internal/",
    "http://printer.local/",
]

CREATE = """
mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) { webhook { id } errors { field code message } }
}"""


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_finding_9_webhook_urls_refused_when_saved_on_rest_and_graphql(project, admin, url):
    rest = Api(admin).post(f"projects/{project.pk}/webhooks/", {"url": url})
    assert rest.status_code == 400, rest.content
    assert [(p["name"], p["code"]) for p in rest.json()["invalid_params"]] == [("url", "invalid")]

    graph = post(
        Client(),
        CREATE,
        {"input": {"projectId": to_global_id("Project", project.pk), "url": url}},
        token=make_token(admin),
    ).json()["data"]["createWebhook"]
    assert graph["webhook"] is None
    assert [(e["field"], e["code"]) for e in graph["errors"]] == [("url", "INVALID")]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in table:
            if not table[host]:
                raise socket.gaierror(-2, "Name or service not known")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in table[host]]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


def test_finding_9_webhook_urls_delivery_log_hides_resolution(
    project, admin, member, resolver, monkeypatch, django_capture_on_commit_callbacks
):
    resolver["intranet-wiki.example.com"] = ["10.20.30.40"]
    resolver["gone.example.com"] = []
    scheduled: list[tuple[Any, ...]] = []
    monkeypatch.setattr(webhook_delivery, "schedule", lambda *args: scheduled.append(args))
    for host in resolver:
        webhooks.webhook_create(actor=admin, project_id=project.pk, url=f"https://{host}/hook")

    with django_capture_on_commit_callbacks(execute=True):
        make_task(project, member)
    errors = []
    for delivery_id, sequence, attempt, _ in list(scheduled):
        recorded = webhook_delivery.run_attempt(delivery_id, sequence, attempt)
        assert recorded is not None and recorded.status_code is None
        errors.append(recorded.error)

    log = Api(admin).get(f"projects/{project.pk}/webhooks/").json()
    shown = " ".join(errors) + repr(log)
    assert "10.20.30.40" not in shown
    assert "Name or service not known" not in shown
    assert sorted(errors) == [
        "The host name could not be resolved.",
        "The host name resolves to an address that is not a public address.",
    ]
