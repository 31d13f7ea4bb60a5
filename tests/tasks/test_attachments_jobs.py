"""Background processing: sha256, image size, thumbnail, state and the `attachment.processed`
event; eager in-process, and through a real Redis broker and worker when REDIS_URL is set."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from project.celery import app as celery_app
from tasks import jobs, services
from tasks.models import Attachment, Event
from tasks.uploads import thumbnail_name
from tests.tasks import attachment_files as files
from tests.tasks.attachment_files import upload


def add(actor: Any, task: Any, filename: str, data: bytes) -> Attachment:
    return services.attachment_add(actor=actor, task_id=task.pk, file=upload(filename, data))


def processed_events() -> list[Event]:
    return list(Event.objects.filter(type=Event.Type.ATTACHMENT_PROCESSED))


def test_job_processes_an_image(media_root: Path, task: Any, member: Any) -> None:
    data = files.png((600, 300))
    attachment = add(member, task, "wide.png", data)
    assert attachment.state == Attachment.State.PENDING  # the job runs after commit

    assert jobs.process_attachment(attachment.pk) == Attachment.State.PROCESSED

    attachment.refresh_from_db()
    assert attachment.state == Attachment.State.PROCESSED
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert (attachment.width, attachment.height) == (600, 300)
    with default_storage.open(thumbnail_name(attachment.file.name)) as handle:
        thumb = Image.open(io.BytesIO(handle.read()))
        assert thumb.format == "WEBP"
        assert thumb.size == (256, 128)

    [event] = processed_events()
    assert event.task_id == task.pk
    assert event.actor is None
    assert event.data["pk"] == attachment.pk
    assert event.data["state"] == "PROCESSED"
    assert event.data["sha256"] == attachment.sha256
    assert (event.data["width"], event.data["height"]) == (600, 300)


def test_job_uses_the_exif_orientation_for_the_size(
    media_root: Path, task: Any, member: Any
) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: a portrait photo stored landscape
    data = files.image("JPEG", (400, 100), exif=exif.tobytes())
    attachment = add(member, task, "portrait.jpg", data)

    jobs.process_attachment(attachment.pk)

    attachment.refresh_from_db()
    assert (attachment.width, attachment.height) == (100, 400)


def test_job_on_a_document_computes_the_hash_only(media_root: Path, task: Any, member: Any) -> None:
    attachment = add(member, task, "report.pdf", files.PDF)

    jobs.process_attachment(attachment.pk)

    attachment.refresh_from_db()
    assert attachment.state == Attachment.State.PROCESSED
    assert attachment.sha256 == hashlib.sha256(files.PDF).hexdigest()
    assert attachment.width is None and attachment.height is None
    assert not default_storage.exists(thumbnail_name(attachment.file.name))
    assert [event.data["state"] for event in processed_events()] == ["PROCESSED"]


def test_job_runs_once(media_root: Path, task: Any, member: Any) -> None:
    attachment = add(member, task, "notes.txt", files.TEXT)

    assert jobs.process_attachment(attachment.pk) == "processed"
    assert jobs.process_attachment(attachment.pk) == "skipped"  # a redelivered message
    assert len(processed_events()) == 1


def test_job_for_a_deleted_attachment_does_nothing(
    media_root: Path, task: Any, member: Any
) -> None:
    attachment = add(member, task, "notes.txt", files.TEXT)
    pk = attachment.pk
    services.attachment_delete(actor=member, attachment_id=pk)

    assert jobs.process_attachment(pk) == "skipped"
    assert processed_events() == []


def test_job_failure_marks_the_attachment_failed(media_root: Path, task: Any, member: Any) -> None:
    attachment = add(member, task, "photo.png", files.png())
    default_storage.delete(attachment.file.name)  # lost from storage

    assert jobs.process_attachment(attachment.pk) == Attachment.State.FAILED

    attachment.refresh_from_db()
    assert attachment.state == Attachment.State.FAILED
    assert [event.data["state"] for event in processed_events()] == ["FAILED"]


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Celery as it runs without REDIS_URL, whatever this run's environment."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


def test_eager_processing_runs_after_the_upload_commits(
    media_root: Path,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
    task: Any,
    member: Any,
) -> None:
    data = files.image("GIF", (20, 10))
    with django_capture_on_commit_callbacks(execute=True):
        attachment = add(member, task, "anim.gif", data)

    attachment.refresh_from_db()
    assert attachment.state == Attachment.State.PROCESSED
    assert (attachment.width, attachment.height) == (20, 10)
    types = list(Event.objects.filter(task_id=task.pk).values_list("type", flat=True))
    assert types[-2:] == [Event.Type.ATTACHMENT_ADDED, Event.Type.ATTACHMENT_PROCESSED]


def test_a_failing_enqueue_does_not_fail_the_upload(
    media_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    task: Any,
    member: Any,
) -> None:
    def broker_down(*args: Any) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(jobs.process_attachment, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        attachment = add(member, task, "notes.txt", files.TEXT)

    assert Attachment.objects.get(pk=attachment.pk).state == Attachment.State.PENDING


@pytest.fixture
def celery_worker(transactional_db: Any) -> Iterator[None]:
    """A real worker thread consuming from the Redis broker."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    def close_connections(**kwargs: Any) -> None:
        connections.close_all()  # the worker thread's, so the test database can be dropped

    task_postrun.connect(close_connections, weak=False)
    celery_app.control.purge()  # leftovers from tests that enqueued without a worker
    try:
        with start_worker(celery_app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            yield
    finally:
        task_postrun.disconnect(close_connections)


@pytest.mark.redis
def test_worker_processes_uploads_through_the_broker(
    media_root: Path, celery_worker: None, task: Any, member: Any
) -> None:
    assert not celery_app.conf.task_always_eager
    data = files.png((64, 48))
    attachment = add(member, task, "photo.png", data)  # autocommit: enqueued at once

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        attachment.refresh_from_db()
        if attachment.state != Attachment.State.PENDING:
            break
        time.sleep(0.05)

    assert attachment.state == Attachment.State.PROCESSED
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert (attachment.width, attachment.height) == (64, 48)
    assert default_storage.exists(thumbnail_name(attachment.file.name))
    assert len(processed_events()) == 1
