"""The sha256 of an upload is computed while it streams in, by the storing upload handlers
(tasks.uploads.hashing), for files kept in memory and files spooled to disk alike."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from django.core.files.uploadedfile import (
    InMemoryUploadedFile,
    SimpleUploadedFile,
    TemporaryUploadedFile,
)
from django.test import RequestFactory

from tasks import services
from tasks.uploads import sha256_of_upload
from tasks.uploads.hashing import DIGEST_ATTRIBUTE
from tests.factories import make_task
from tests.tasks import attachment_files as files


def parsed_files(**uploads: bytes) -> Any:
    request = RequestFactory().post(
        "/upload/",
        {name: SimpleUploadedFile(f"{name}.txt", data) for name, data in uploads.items()},
    )
    return request.FILES


def test_small_and_large_files_are_hashed_as_they_stream_in(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 8 * 1024 * 1024
    small = b"hello, world\n" * 10
    large = os.urandom(settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 300_000)  # spooled to disk

    in_memory = parsed_files(file=small)["file"]
    # A request over FILE_UPLOAD_MAX_MEMORY_SIZE spools every file in it to disk.
    on_disk = parsed_files(first=large, second=small)

    assert isinstance(in_memory, InMemoryUploadedFile)
    assert isinstance(on_disk["first"], TemporaryUploadedFile)
    for uploaded, data in (
        (in_memory, small),
        (on_disk["first"], large),
        (on_disk["second"], small),
    ):
        assert getattr(uploaded, DIGEST_ATTRIBUTE) == hashlib.sha256(data).hexdigest()
        assert uploaded.size == len(data)


def test_the_streamed_digest_is_used_without_reading_the_file_again() -> None:
    uploaded = parsed_files(file=b"streamed bytes")["file"]

    def no_second_read(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the upload was read again to hash it")

    uploaded.chunks = no_second_read
    assert sha256_of_upload(uploaded) == hashlib.sha256(b"streamed bytes").hexdigest()


def test_a_file_handed_in_process_is_hashed_once_on_the_way_in() -> None:
    assert (
        sha256_of_upload(SimpleUploadedFile("a.txt", b"abc")) == hashlib.sha256(b"abc").hexdigest()
    )


@pytest.fixture
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_the_attachment_has_its_sha256_before_any_job_runs(
    media_root: Any, project: Any, member: Any
) -> None:
    """Under the `db` fixture nothing commits, so the processing job never runs here."""
    task = make_task(project, member, title="Ship it")
    attachment = services.attachment_add(
        actor=member, task_id=task.pk, file=SimpleUploadedFile("r.pdf", files.PDF)
    )
    assert attachment.state == "pending"
    assert attachment.sha256 == hashlib.sha256(files.PDF).hexdigest()
    assert attachment.size == len(files.PDF)
