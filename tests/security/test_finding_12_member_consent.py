"""Finding 12: adding a member needs their consent. A user can be added directly only by someone
who already shares a project with them (or by site staff); anyone else, the superuser included,
gets the same `not_found` error as a username that does not exist, on REST and GraphQL."""

from __future__ import annotations

import pytest
from django.test import Client
from graphql_relay import to_global_id

from tasks.models import Membership
from tests.api.conftest import Api
from tests.factories import UserFactory, acquaint, make_token
from tests.graph.helpers import post

pytestmark = pytest.mark.django_db

ADD = """
mutation($input: AddProjectMemberInput!) {
  addProjectMember(input: $input) { membership { role } errors { field code message } }
}"""


def _rest_add(actor, project, username):
    return Api(actor).post(
        f"projects/{project.pk}/members/", {"username": username, "role": "member"}
    )


def _graphql_add(actor, project, username):
    variables = {
        "input": {
            "projectId": to_global_id("Project", project.pk),
            "username": username,
            "role": "MEMBER",
        }
    }
    return post(Client(), ADD, variables, token=make_token(actor)).json()["data"][
        "addProjectMember"
    ]


def test_finding_12_member_consent_strangers_and_unknown_names_look_alike(project, owner):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    stranger = UserFactory(username="stranger")

    answers = [_rest_add(owner, project, name) for name in (root.username, stranger.username)]
    unknown = _rest_add(owner, project, "no-such-user")
    for answer in answers:
        assert answer.status_code == 400
        assert answer.json() == unknown.json()
    assert unknown.json()["invalid_params"][0]["code"] == "not_found"

    graph = [_graphql_add(owner, project, name) for name in ("root", "stranger", "no-such-user")]
    assert all(g["membership"] is None for g in graph)
    assert graph[0]["errors"] == graph[1]["errors"] == graph[2]["errors"]
    assert graph[0]["errors"][0]["code"] == "NOT_FOUND"
    assert not Membership.objects.filter(project=project, user__in=[root, stranger]).exists()


def test_finding_12_member_consent_people_already_working_together_can_be_added(project, owner):
    colleague = UserFactory(username="colleague")
    acquaint(owner, colleague)
    assert _rest_add(owner, project, colleague.username).status_code == 201
    staff = UserFactory(username="staffer", is_staff=True)
    newcomer = UserFactory(username="newcomer")
    staff_project = acquaint(staff)
    assert _rest_add(staff, staff_project, newcomer.username).status_code == 201
