"""The view is configured through graphene-django's `GRAPHENE` setting: its MIDDLEWARE runs on
every resolved field (the custom executor steps aside for it), and answers do not change."""

from __future__ import annotations

from typing import Any

import graphene_django.settings
import graphene_django.views
from django.test import Client

from tests.factories import make_task, make_token

from .helpers import post

SEEN: list[str] = []
QUERY = "{ viewer { username } tasks(first: 5) { edges { node { title status } } } }"


def graphene_settings_module() -> Any:
    return graphene_django.settings.graphene_settings


class RecordingMiddleware:
    def resolve(self, next_: Any, root: Any, info: Any, **args: Any) -> Any:
        SEEN.append(info.field_name)
        return next_(root, info, **args)


def test_graphene_middleware_sees_every_field(
    settings: Any, monkeypatch: Any, project: Any, owner: Any
) -> None:
    make_task(project, owner, title="One")
    make_task(project, owner, title="Two")
    token = make_token(owner)
    plain = post(Client(), QUERY, token=token).json()

    settings.GRAPHENE = {
        **settings.GRAPHENE,
        "MIDDLEWARE": ["tests.graph.test_view_middleware.RecordingMiddleware"],
    }
    # graphene-django reloads its settings object on `setting_changed`, but its views module
    # keeps the one it imported at startup.
    monkeypatch.setattr(graphene_django.views, "graphene_settings", graphene_settings_module())
    SEEN.clear()
    recorded = post(Client(), QUERY, token=token).json()
    assert recorded == plain and "errors" not in plain
    assert sorted(SEEN) == sorted(
        ["viewer", "username", "tasks", "edges"] + ["node", "title", "status"] * 2
    )
