"""Finding 11: titles, project names and comment bodies made only of invisible characters, or
holding bidirectional controls, are refused with the `invalid` code on every transport; the
validator lives on the model fields and the services run it."""

from __future__ import annotations

import pytest
from django.test import Client
from graphql_relay import to_global_id

from tasks.models import Comment, Project, Task
from tests.api.conftest import Api
from tests.factories import make_task, make_token
from tests.graph.helpers import post

pytestmark = pytest.mark.django_db

HOSTILE = ["\u200b", "\u200b\u200d\u2060", "\u3164", "\u202eevil", "safe\u2066name\u2069"]

CREATE_TASK = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id } errors { field code message } }
}"""


@pytest.mark.parametrize("text", HOSTILE)
def test_finding_11_display_text_refused_on_rest(project, member, text):
    api = Api(member)
    tasks_before = Task.objects.count()
    response = api.post("tasks/", {"project": project.pk, "title": text})
    assert response.status_code == 400, response.content
    assert response.json()["invalid_params"][0]["name"] == "title"
    assert response.json()["invalid_params"][0]["code"] == "invalid"
    assert Task.objects.count() == tasks_before

    task = make_task(project, member)
    comment = api.post(f"tasks/{task.pk}/comments/", {"body": text})
    assert comment.status_code == 400 and comment.json()["code"] == "invalid"
    assert not Comment.objects.filter(task=task).exists()

    project_response = Api(member).post("projects/", {"name": text})
    assert project_response.status_code == 400
    assert project_response.json()["invalid_params"][0]["name"] == "name"
    assert not Project.objects.filter(name=text).exists()


@pytest.mark.parametrize("text", HOSTILE)
def test_finding_11_display_text_refused_on_graphql(project, member, text):
    body = post(
        Client(),
        CREATE_TASK,
        {"input": {"projectId": to_global_id("Project", project.pk), "title": text}},
        token=make_token(member),
    ).json()
    payload = body["data"]["createTask"]
    assert payload["task"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("title", "INVALID")]


def test_finding_11_display_text_keeps_right_to_left_and_emoji_titles(project, member):
    for title in ["مهمة جديدة", "עבודה", "🚀 launch", "naïve café"]:
        assert make_task(project, member, title=title).title == title
