"""The benchmark's peers answer exactly what TaskHub answers for the same workload, so a ratio
compares equal work (`make bench` checks the same on the live servers before timing)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from graphql_relay import to_global_id

from bench.http import GRAPHQL_QUERY
from bench.seed import seed

PEERS = override_settings(ROOT_URLCONF="bench.peers.urls", MIDDLEWARE=[])


@pytest.fixture
def bench_data(db: Any) -> tuple[int, str]:
    return seed(tasks=30)


@pytest.mark.parametrize("n", [1, 10])
def test_graphql_peers_answer_what_taskhub_answers(bench_data: tuple[int, str], n: int) -> None:
    project_id, token = bench_data
    body = {"query": GRAPHQL_QUERY, "variables": {"p": to_global_id("Project", project_id), "n": n}}
    taskhub = Client(headers={"Authorization": f"Bearer {token}"})
    expected = taskhub.post("/graphql", body, content_type="application/json").json()
    assert "errors" not in expected and len(expected["data"]["tasks"]["edges"]) == n

    with PEERS:
        peer = Client()
        answers = {
            "plain": peer.get(f"/plain/graphql-tasks?project={project_id}&first={n}").json(),
            "graphene": peer.post("/graphene/graphql", body, content_type="application/json"),
            "strawberry": peer.post("/strawberry/graphql", body, content_type="application/json"),
        }
    answers = {k: v if isinstance(v, dict) else v.json() for k, v in answers.items()}
    for name, answer in answers.items():
        assert answer == expected, name


def test_rest_peers_answer_what_taskhub_answers(bench_data: tuple[int, str]) -> None:
    project_id, token = bench_data
    taskhub = Client(headers={"Authorization": f"Bearer {token}"})
    expected = taskhub.get(f"/api/v1/tasks/?project={project_id}&page_size=20").json()["results"]
    assert len(expected) == 20

    with PEERS:
        peer = Client()
        plain = peer.get(f"/plain/rest-tasks?project={project_id}&page_size=20").json()
        drf = peer.get(f"/drf/tasks?project={project_id}&page_size=20").json()

    assert plain["results"] == expected
    assert drf["results"] == expected
