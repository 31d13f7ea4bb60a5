"""`Project.webhooks`: the project's webhooks for its admins and owner, an empty list for other
members, batched over a page of projects (the query count does not grow with the page)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from graphql_relay import from_global_id

from project import token_lookup
from tasks import webhooks
from tasks.models import Role
from tests.factories import make_project, make_token

from .helpers import post

pytestmark = pytest.mark.django_db

QUERY = "query { projects(first: 50) { edges { node { name viewerRole webhooks { id url } } } } }"


def _projects(owner: Any, member: Any, count: int) -> None:
    for index in range(count):
        project = make_project(owner, name=f"P{index}", members={member: Role.MEMBER})
        for n in range(2):
            webhooks.webhook_create(
                actor=owner, project_id=project.pk, url=f"https://h{n}.example.com/{index}"
            )


def _run(token: str) -> tuple[list[dict[str, Any]], int]:
    token_lookup.forget()  # every run reads the token, so the counts compare like with like
    with CaptureQueriesContext(connection) as captured:
        response = post(Client(), QUERY, token=token)
    body = response.json()
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["projects"]["edges"]], len(captured)


def test_owner_sees_each_projects_webhooks_in_flat_queries(owner: Any, member: Any) -> None:
    _projects(owner, member, 2)
    token = make_token(owner)
    nodes, few = _run(token)
    assert all(len(node["webhooks"]) == 2 for node in nodes)
    assert {hook["url"] for node in nodes for hook in node["webhooks"]} >= {
        "https://h0.example.com/0",
        "https://h1.example.com/1",
    }
    assert from_global_id(nodes[0]["webhooks"][0]["id"])[0] == "Webhook"

    _projects(owner, member, 6)
    nodes, many = _run(token)
    assert len(nodes) == 8
    assert many == few


def test_members_get_an_empty_list_not_an_error(owner: Any, member: Any) -> None:
    _projects(owner, member, 2)
    nodes, _ = _run(make_token(member))
    assert [(node["viewerRole"], node["webhooks"]) for node in nodes] == [("MEMBER", [])] * 2
