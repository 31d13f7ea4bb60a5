"""Fixtures for the domain tests: a task, a comment and an attachment made by the MEMBER, and a
recording channel layer that keeps every group_send."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile

from tasks import services
from tasks.models import Attachment
from tests.factories import make_task


@pytest.fixture
def task(project: Any, member: Any) -> Any:
    return make_task(project, member, title="Write the docs", description="Explain the API.")


@pytest.fixture
def comment(task: Any, member: Any) -> Any:
    return services.comment_add(actor=member, task_id=task.pk, body="First!")


@pytest.fixture
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def make_attachment(task: Any, user: Any, name: str = "notes.txt") -> Attachment:
    return Attachment.objects.create(
        task=task,
        file=ContentFile(b"hello world", name=name),
        name=name,
        size=11,
        content_type="text/plain",
        uploaded_by=user,
    )


@pytest.fixture
def attachment(media_root: Any, task: Any, member: Any) -> Attachment:
    return make_attachment(task, member)


class RecordingLayer:
    """Stands in for the channel layer: keeps what was sent, to which group."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.sent.append((group, message))

    def groups(self) -> list[str]:
        return [group for group, _ in self.sent]


@pytest.fixture
def layer(monkeypatch: pytest.MonkeyPatch) -> RecordingLayer:
    recording = RecordingLayer()
    monkeypatch.setattr("tasks.events.get_channel_layer", lambda: recording)
    return recording
