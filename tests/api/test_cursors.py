"""REST's cursor pagination on tasks.keyset: cursors of another list, of GraphQL or edited are a
400 problem; a page whose rows were all deleted meanwhile still offers the way back."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tasks.models import Task
from tests.factories import make_task, make_token

from .conftest import assert_problem

pytestmark = pytest.mark.django_db


def cursor_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


@pytest.fixture
def tasks(project: Any, owner: Any) -> list[Task]:
    return [make_task(project, owner, title=f"T{n}") for n in range(5)]


def test_cursors_of_other_lists_are_rejected(api: Any, owner: Any, project: Any, tasks: Any):
    client = api(owner)
    activity = client.get(f"projects/{project.pk}/activity/", {"page_size": 2}).json()
    body = assert_problem(client.get("tasks/", {"cursor": cursor_of(activity["next"])}), 400)
    assert body["errors"] == {"cursor": ["Invalid cursor."]}

    query = "{ tasks(first: 1) { pageInfo { endCursor } } }"
    graphql = Client().post(
        "/graphql",
        {"query": query},
        content_type="application/json",
        headers={"Authorization": f"Bearer {make_token(owner)}"},
    )
    cursor = graphql.json()["data"]["tasks"]["pageInfo"]["endCursor"]
    assert_problem(client.get("tasks/", {"cursor": cursor}), 400)


def test_an_edited_cursor_is_rejected(api: Any, owner: Any, tasks: Any):
    client = api(owner)
    cursor = cursor_of(client.get("tasks/", {"page_size": 2}).json()["next"])
    assert client.get("tasks/", {"cursor": cursor}).status_code == 200
    backwards = cursor_of(client.get("tasks/", {"cursor": cursor}).json()["previous"])
    assert backwards != cursor
    # Every cursor is signed for its list, ordering and direction: no character can change.
    for edited in (cursor[:-1], cursor[:10] + "A" + cursor[11:], "A" * 40, backwards[:-1]):
        if edited != cursor:
            assert_problem(client.get("tasks/", {"cursor": edited}), 400)


def test_a_page_emptied_meanwhile_offers_the_way_back(api: Any, owner: Any, tasks: Any):
    client = api(owner)
    first = client.get("tasks/", {"page_size": 3}).json()
    seen = [t["id"] for t in first["results"]]
    Task.objects.exclude(pk__in=seen).delete()
    empty = client.get(first["next"]).json()
    assert empty["results"] == [] and empty["next"] is None
    # Back from where the cursor pointed (the last row seen), then on to it again.
    back = client.get(empty["previous"]).json()
    assert [t["id"] for t in back["results"]] == seen[:-1]
    assert back["previous"] is None
    again = client.get(back["next"]).json()
    assert [t["id"] for t in again["results"]] == seen[-1:]
    assert again["next"] is None and again["previous"] is not None
