"""attachment_delete (and the deletions that take attachments with them) remove the stored file
only once the deletion has committed: a rolled-back deletion keeps its file."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from graphql_relay import to_global_id

from tasks import services
from tasks.models import Attachment, Event
from tests.factories import make_task

from .conftest import make_attachment

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_the_file_is_removed_after_the_commit_only(
    attachment, admin, media_root, django_capture_on_commit_callbacks
):
    name = attachment.file.name
    assert (media_root / name).read_bytes() == b"hello world"
    before = Event.objects.count()
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.attachment_delete(actor=admin, attachment_id=attachment.pk) == attachment.pk
    assert default_storage.exists(name)  # not committed yet
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    for callback in callbacks:
        callback()
    assert not default_storage.exists(name)
    assert not (media_root / name).exists()
    assert Event.objects.count() == before + 1


def test_the_deletion_records_one_event(attachment, admin):
    before = Event.objects.count()
    services.attachment_delete(actor=admin, attachment_id=attachment.pk)
    assert Event.objects.count() == before + 1
    event = Event.objects.latest("id")
    assert (event.type, event.project_id, event.task_id, event.actor) == (
        "attachment.deleted",
        attachment.task.project_id,
        attachment.task_id,
        admin,
    )
    assert event.data["id"] == to_global_id("Attachment", attachment.pk)
    assert (event.data["name"], event.data["size"]) == ("notes.txt", 11)
    assert event.data["uploadedBy"]["username"] == "mia"


def test_a_rolled_back_deletion_keeps_the_row_and_the_file(
    attachment, member, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        services.attachment_delete(actor=member, attachment_id=attachment.pk)
        raise Boom
    assert callbacks == []
    assert Attachment.objects.filter(pk=attachment.pk).exists()
    assert default_storage.exists(attachment.file.name)


def test_a_file_already_gone_does_not_fail_the_deletion(
    attachment, member, django_capture_on_commit_callbacks
):
    default_storage.delete(attachment.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_delete(actor=member, attachment_id=attachment.pk)
    assert not Attachment.objects.exists()


def test_deleting_a_task_or_project_removes_their_files_after_commit(
    media_root, task, member, owner, django_capture_on_commit_callbacks
):
    first = make_attachment(task, member, "a.txt").file.name
    second = make_attachment(task, member, "b.txt").file.name
    with django_capture_on_commit_callbacks() as callbacks:
        services.task_delete(actor=member, task_id=task.pk)
    assert default_storage.exists(first) and default_storage.exists(second)
    for callback in callbacks:
        callback()
    assert not default_storage.exists(first) and not default_storage.exists(second)

    other = make_task(task.project, member)
    third = make_attachment(other, member, "c.txt").file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.project_delete(actor=owner, project_id=task.project_id)
    assert not default_storage.exists(third)
