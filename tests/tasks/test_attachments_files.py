"""The stored bytes: the download response, and removal (with thumbnails) after a deleting commit,
never on rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.signals import request_finished
from django.db import close_old_connections, transaction

from tasks import jobs, services
from tasks.errors import NotFound
from tasks.models import Attachment
from tasks.uploads import content_disposition, download_response, thumbnail_name
from tests.tasks import attachment_files as files
from tests.tasks.attachment_files import upload


def add(actor: Any, task: Any, filename: str, data: bytes, name: str | None = None) -> Attachment:
    file = upload(filename, data)
    return services.attachment_add(actor=actor, task_id=task.pk, file=file, name=name)


def processed_image(task: Any, member: Any) -> tuple[Attachment, list[str]]:
    attachment = add(member, task, "photo.png", files.png())
    jobs.process_attachment(attachment.pk)
    names = [attachment.file.name, thumbnail_name(attachment.file.name)]
    assert all(default_storage.exists(name) for name in names)
    return attachment, names


# --- Download -------------------------------------------------------------------------------------


def test_download_response_streams_the_bytes_with_safe_headers(
    media_root: Path, task: Any, member: Any
) -> None:
    attachment = add(member, task, "x.pdf", files.PDF, name='Résumé 2024 "final".pdf')

    response = download_response(attachment)

    assert b"".join(response.streaming_content) == files.PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(files.PDF))
    assert response["Content-Disposition"] == (
        'attachment; filename="Resume 2024 _final_.pdf"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%202024%20_final_.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cache-Control"] == "private, no-store"


def test_text_downloads_declare_their_charset(media_root: Path, task: Any, member: Any) -> None:
    response = download_response(add(member, task, "data.csv", files.CSV))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    close_as_the_test_client_does(response)


def close_as_the_test_client_does(response: Any) -> None:
    """`response.close()` sends request_finished; Django's `close_old_connections` receiver would
    close the test's connection mid-transaction (then the outbox's receiver cannot reconnect), so,
    like django.test.Client, close with that receiver disconnected."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes.txt", "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"),
        (
            "日本.txt",
            "attachment; filename=\"download.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt",
        ),
        ("a\\b;c.txt", "attachment; filename=\"a_b;c.txt\"; filename*=UTF-8''a%5Cb%3Bc.txt"),
    ],
)
def test_content_disposition(name: str, expected: str) -> None:
    assert content_disposition(name) == expected


def test_download_of_a_file_missing_from_storage_is_not_found(
    media_root: Path, task: Any, member: Any
) -> None:
    attachment = add(member, task, "notes.txt", files.TEXT)
    default_storage.delete(attachment.file.name)
    with pytest.raises(NotFound):
        download_response(attachment)


# --- Deletion -------------------------------------------------------------------------------------


def test_deleting_an_attachment_removes_its_files_after_commit(
    media_root: Path, django_capture_on_commit_callbacks: Any, task: Any, member: Any
) -> None:
    attachment, names = processed_image(task, member)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.attachment_delete(actor=member, attachment_id=attachment.pk)
    assert all(default_storage.exists(name) for name in names)  # not before the commit

    for callback in callbacks:
        callback()
    assert not any(default_storage.exists(name) for name in names)


def test_a_rolled_back_deletion_keeps_the_files(
    media_root: Path, django_capture_on_commit_callbacks: Any, task: Any, member: Any
) -> None:
    attachment, names = processed_image(task, member)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.attachment_delete(actor=member, attachment_id=attachment.pk)
        raise RuntimeError("rolled back")

    assert Attachment.objects.filter(pk=attachment.pk).exists()
    assert all(default_storage.exists(name) for name in names)


def test_deleting_a_task_removes_its_files(
    media_root: Path, django_capture_on_commit_callbacks: Any, task: Any, member: Any
) -> None:
    _, names = processed_image(task, member)
    other = add(member, task, "notes.txt", files.TEXT).file.name

    with django_capture_on_commit_callbacks(execute=True):
        services.task_delete(actor=member, task_id=task.pk)

    assert not any(default_storage.exists(name) for name in [*names, other])


def test_deleting_a_project_removes_its_files(
    media_root: Path,
    django_capture_on_commit_callbacks: Any,
    project: Any,
    task: Any,
    owner: Any,
    member: Any,
) -> None:
    _, names = processed_image(task, member)

    with django_capture_on_commit_callbacks(execute=True):
        services.project_delete(actor=owner, project_id=project.pk)

    assert not any(default_storage.exists(name) for name in names)
    assert [p for p in media_root.rglob("*") if p.is_file()] == []
