"""`manage.py seed_demo`: demo data for local development only."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from tasks.models import Comment, Event, Membership, Project, Role, Task

pytestmark = pytest.mark.django_db


def seed(**options: str) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def printed_password(output: str) -> str:
    match = re.search(r"password: (\S+)", output)
    assert match, output
    return match.group(1)


def test_it_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        seed()
    assert not get_user_model().objects.exists()
    assert not Project.objects.exists()


def test_it_creates_a_user_whose_printed_password_works(settings):
    settings.DEBUG = True
    output = seed()
    password = printed_password(output)
    assert len(password) >= 12
    assert "username: demo" in output
    assert authenticate(username="demo", password=password) is not None
    assert authenticate(username="demo", password=password + "x") is None


def test_it_creates_a_project_with_tasks_and_comments(settings):
    settings.DEBUG = True
    seed()
    demo = get_user_model().objects.get(username="demo")
    project = Project.objects.get()
    assert Membership.objects.get(project=project, user=demo).role == Role.OWNER
    assert Membership.objects.filter(project=project).count() == 2
    tasks = Task.objects.filter(project=project)
    assert tasks.count() >= 3
    assert {task.status for task in tasks} >= {"todo", "done"}
    assert all(task.completed_at for task in tasks if task.status == "done")
    assert Comment.objects.filter(task__project=project).count() >= tasks.count()
    # Made through the services, so the activity log is filled in as well.
    assert Event.objects.filter(project=project, type="task.created").count() == tasks.count()


def test_a_second_run_adds_nothing_and_prints_a_fresh_password(settings):
    settings.DEBUG = True
    first = printed_password(seed())
    counts = [model.objects.count() for model in (Project, Task, Comment, Membership, Event)]
    users = get_user_model().objects.count()
    second = printed_password(seed())
    assert [model.objects.count() for model in (Project, Task, Comment, Membership, Event)] == (
        counts
    )
    assert get_user_model().objects.count() == users
    assert first != second
    assert authenticate(username="demo", password=second) is not None
    assert authenticate(username="demo", password=first) is None


def demo_client_redirect_uris() -> list[str]:
    from oauth2_provider.models import get_application_model

    return get_application_model().objects.get(client_type="public").redirect_uris.split()


def test_it_registers_the_callback_of_the_origin_make_run_serves_on(settings):
    settings.DEBUG = True
    output = seed(origin=["http://127.0.0.1:8011"])
    expected = ["http://127.0.0.1:8011/app/callback", "http://localhost:5173/callback"]
    assert demo_client_redirect_uris() == expected
    assert f"redirect URIs: {' '.join(expected)}" in output


def test_serving_on_another_port_later_adds_its_callback_and_keeps_the_first(settings):
    settings.DEBUG = True
    seed()
    seed(origin=["http://localhost:9001"])
    assert demo_client_redirect_uris() == [
        "http://127.0.0.1:8000/app/callback",
        "http://localhost:5173/callback",
        "http://localhost:9001/app/callback",
    ]


def test_a_wildcard_host_registers_both_loopback_names(settings):
    settings.DEBUG = True
    seed(origin=["http://0.0.0.0:8000"])
    assert demo_client_redirect_uris() == [
        "http://127.0.0.1:8000/app/callback",
        "http://localhost:8000/app/callback",
        "http://localhost:5173/callback",
    ]


@pytest.mark.parametrize("origin", ["8011", "ftp://127.0.0.1:8011", "http://"])
def test_a_malformed_origin_is_a_command_error_and_creates_nothing(settings, origin):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="--origin"):
        seed(origin=[origin])
    assert not get_user_model().objects.exists()


def test_make_run_passes_its_host_and_port():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert "manage.py seed_demo --origin http://$(HOST):$(PORT)" in makefile
