"""Test data. Projects are made through the service, so they carry their owner and event."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    set_token_value,
)

from tasks import services
from tasks.models import Membership, Project, Role, Task


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct horse battery staple")


def make_project(
    owner: Any, *, name: str = "Project", members: dict[Any, str] | None = None
) -> Project:
    project = services.project_create(actor=owner, name=name)
    for user, role in (members or {}).items():
        Membership.objects.create(project=project, user=user, role=role)
    return project


def acquaint(actor: Any, *users: Any) -> Project:
    """Makes `users` people `actor` already works with (a shared project of their own), the
    precondition for `actor` adding them to another project (tasks.services._addable_user)."""
    return make_project(actor, name="Shared earlier", members=dict.fromkeys(users, Role.VIEWER))


def make_task(project: Project, actor: Any, **fields: Any) -> Task:
    fields.setdefault("title", "A task")
    return services.task_create(actor=actor, project_id=project.pk, **fields)


def make_token(user: Any, scope: str = "read write", *, expires_in: int = 3600) -> str:
    """An access token as the authorization server would issue it; returns the raw token."""
    Application = get_application_model()
    AccessToken = get_access_token_model()
    application, _ = Application.objects.get_or_create(
        name="tests",
        defaults={
            "user": user,
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
        },
    )
    raw = secrets.token_urlsafe(30)
    token = AccessToken(
        user=user,
        application=application,
        expires=timezone.now() + timedelta(seconds=expires_in),
        scope=scope,
    )
    set_token_value(token, raw)  # stored as the server stores it: checksum only, when hashed
    token.save()
    return raw
