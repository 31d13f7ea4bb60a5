"""attachment_add: what is accepted, every refusal, who may upload, where the bytes go."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from tasks import services
from tasks.errors import NotFound, PermissionDenied, ValidationError
from tasks.models import Attachment, Event
from tests.tasks import attachment_files as files
from tests.tasks.attachment_files import upload

OOXML = "application/vnd.openxmlformats-officedocument"


def add(actor: Any, task: Any, filename: str, data: bytes, **kwargs: Any) -> Attachment:
    file = upload(filename, data)
    return services.attachment_add(actor=actor, task_id=task.pk, file=file, **kwargs)


def refused(actor: Any, task: Any, filename: str, data: bytes, **kwargs: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        add(actor, task, filename, data, **kwargs)
    return caught.value.codes


def stored_files(media_root: Path) -> list[Path]:
    return sorted(p for p in media_root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("report.pdf", files.PDF, "application/pdf"),
        ("photo.png", files.png(), "image/png"),
        ("photo.jpg", files.image("JPEG"), "image/jpeg"),
        ("anim.gif", files.image("GIF"), "image/gif"),
        ("pic.webp", files.image("WEBP"), "image/webp"),
        ("notes.txt", files.TEXT, "text/plain"),
        ("README", files.TEXT, "text/plain"),
        ("config.json", b'{"a": 1}\n', "text/plain"),
        ("data.csv", files.CSV, "text/csv"),
        ("letter.docx", files.office("word/document.xml"), f"{OOXML}.wordprocessingml.document"),
        ("sheet.xlsx", files.office("xl/workbook.xml"), f"{OOXML}.spreadsheetml.sheet"),
        ("deck.pptx", files.office("ppt/presentation.xml"), f"{OOXML}.presentationml.presentation"),
    ],
)
def test_accepted_kinds_are_stored_with_the_sniffed_content_type(
    media_root: Path, task: Any, member: Any, name: str, data: bytes, content_type: str
) -> None:
    attachment = add(member, task, name, data)

    assert attachment.content_type == content_type
    assert attachment.name == name
    assert attachment.size == len(data)
    assert attachment.uploaded_by == member
    assert default_storage.open(attachment.file.name).read() == data


def test_the_client_content_type_is_ignored(media_root: Path, task: Any, member: Any) -> None:
    file = upload("report.pdf", files.PDF, content_type="text/html")
    attachment = services.attachment_add(actor=member, task_id=task.pk, file=file)
    assert attachment.content_type == "application/pdf"


def test_stored_under_a_random_key_never_the_client_name(
    media_root: Path, task: Any, member: Any
) -> None:
    first = add(member, task, "same.txt", b"one\n")
    second = add(member, task, "same.txt", b"two\n")

    pattern = rf"attachments/{task.project_id}/[0-9a-f]{{32}}"
    assert re.fullmatch(pattern, first.file.name)
    assert re.fullmatch(pattern, second.file.name)
    assert first.file.name != second.file.name
    assert all("same" not in str(path) for path in stored_files(media_root))


def test_upload_records_attachment_added_in_the_log(
    media_root: Path, task: Any, member: Any
) -> None:
    attachment = add(member, task, "notes.txt", files.TEXT)

    event = Event.objects.get(type=Event.Type.ATTACHMENT_ADDED)
    assert event.task_id == task.pk
    assert event.actor == member
    assert event.data["pk"] == attachment.pk
    assert event.data["name"] == "notes.txt"
    assert event.data["contentType"] == "text/plain"
    assert event.data["state"] == "PENDING"


# --- Refusals -------------------------------------------------------------------------------------


def test_too_large_is_refused_and_nothing_is_stored(
    media_root: Path, settings: Any, task: Any, member: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1000
    assert refused(member, task, "big.txt", b"a" * 1001) == ["too_large"]
    assert add(member, task, "fits.txt", b"a" * 1000).size == 1000
    assert len(stored_files(media_root)) == 1


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256))),
        ("program", b"\x7fELF\x02\x01\x01" + b"\x00" * 64),
        ("archive.zip", files.plain_zip()),
        ("macro.docx", files.office("word/document.xml", "word/vbaProject.bin")),
        ("page.txt", b"<!DOCTYPE html><html><body>hi</body></html>"),
        ("page", b"  <html><script>alert(1)</script></html>"),
        ("drawing.txt", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("notes.txt", b"valid start\x00then a NUL"),
        ("latin1.txt", "caf\xe9".encode("latin-1")),
        ("picture.bmp", files.image("BMP")),
        ("picture.tiff", files.image("TIFF")),
    ],
)
def test_disallowed_types_are_refused(
    media_root: Path, task: Any, member: Any, name: str, data: bytes
) -> None:
    assert refused(member, task, name, data) == ["unsupported_type"]
    assert stored_files(media_root) == []
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.png", files.PDF),
        ("report.pdf", files.png()),
        ("notes.txt", files.png()),
        ("photo.jpg", files.png()),
        ("letter.docx", files.office("xl/workbook.xml")),
        ("data.csv", files.office("word/document.xml")),
        ("readme.html", files.TEXT),
        ("installer.exe", files.TEXT),
        ("image.svg", files.TEXT),
    ],
)
def test_an_extension_lying_about_the_content_is_refused(
    media_root: Path, task: Any, member: Any, name: str, data: bytes
) -> None:
    assert refused(member, task, name, data) == ["type_mismatch"]
    assert stored_files(media_root) == []


def test_png_with_an_html_payload_is_refused(media_root: Path, task: Any, member: Any) -> None:
    polyglot = files.png_with_html()
    assert polyglot.startswith(b"\x89PNG")  # a real PNG that Pillow opens...
    assert refused(member, task, "innocent.png", polyglot) == ["unsupported_type"]


def test_gif_with_a_script_after_its_trailer_is_refused(
    media_root: Path, task: Any, member: Any
) -> None:
    gifar = files.image("GIF") + b"<script>alert(1)</script>"
    assert refused(member, task, "anim.gif", gifar) == ["unsupported_type"]


def test_png_decompression_bomb_is_refused(media_root: Path, task: Any, member: Any) -> None:
    bomb = files.png_bomb(20_000, 20_000)
    assert len(bomb) < 100_000

    assert refused(member, task, "bomb.png", bomb) == ["invalid_image"]
    assert stored_files(media_root) == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_image_over_the_configured_pixel_limit_is_refused(
    media_root: Path, settings: Any, task: Any, member: Any
) -> None:
    settings.ATTACHMENT_MAX_IMAGE_PIXELS = 1000
    assert refused(member, task, "big.png", files.png((40, 30))) == ["invalid_image"]
    settings.ATTACHMENT_MAX_IMAGE_PIXELS = 1200
    assert add(member, task, "fits.png", files.png((40, 30))).content_type == "image/png"


def test_broken_images_are_refused(media_root: Path, task: Any, member: Any) -> None:
    truncated = files.png((200, 200))[:-40]
    assert refused(member, task, "cut.png", truncated) == ["invalid_image"]
    assert refused(member, task, "cut.jpg", files.image("JPEG", (300, 300))[:200]) == [
        "invalid_image"
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\system32\\evil.txt", "evil.txt"),
        ("C:\\Users\\me\\notes.txt", "notes.txt"),
        ("a\x00b.txt", "ab.txt"),
        ("line\r\nbreak.txt", "linebreak.txt"),
        ("report\u202etxt.exe.txt", "reporttxt.exe.txt"),
        ("...hidden.txt", "hidden.txt"),
        ("weird..name.txt", "weird.name.txt"),
        ('quote"me?.txt', "quote_me_.txt"),
        ("résumé 2024.txt", "résumé 2024.txt"),
    ],
)
def test_names_are_sanitised(
    media_root: Path, task: Any, member: Any, raw: str, expected: str
) -> None:
    attachment = add(member, task, "placeholder.txt", files.TEXT, name=raw)
    assert attachment.name == expected
    assert expected not in attachment.file.name


def test_long_names_are_shortened_keeping_the_extension(
    media_root: Path, task: Any, member: Any
) -> None:
    attachment = add(member, task, "x.txt", files.TEXT, name="n" * 300 + ".txt")
    assert len(attachment.name) == 200
    assert attachment.name.endswith("nnn.txt")


@pytest.mark.parametrize("raw", ["", "\x00", "../..", "..", "/", "\\\\", " . ", "\x00\x01.\x02"])
def test_names_with_nothing_left_are_refused(
    media_root: Path, task: Any, member: Any, raw: str
) -> None:
    assert refused(member, task, "x.txt", files.TEXT, name=raw) == ["invalid_name"]
    assert stored_files(media_root) == []


def test_missing_or_empty_file_is_required(media_root: Path, task: Any, member: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.attachment_add(actor=member, task_id=task.pk, file=None)
    assert caught.value.codes == ["required"]
    assert refused(member, task, "empty.txt", b"") == ["required"]


def test_project_quota(media_root: Path, settings: Any, task: Any, member: Any) -> None:
    settings.ATTACHMENT_PROJECT_QUOTA_BYTES = 250
    add(member, task, "a.txt", b"a" * 100)
    add(member, task, "b.txt", b"b" * 100)

    assert refused(member, task, "c.txt", b"c" * 51) == ["quota_exceeded"]
    assert add(member, task, "d.txt", b"d" * 50).size == 50
    assert len(stored_files(media_root)) == 3


def test_quota_is_per_project(
    media_root: Path, settings: Any, task: Any, member: Any, owner: Any
) -> None:
    from tests.factories import make_project, make_task

    settings.ATTACHMENT_PROJECT_QUOTA_BYTES = 100
    add(member, task, "a.txt", b"a" * 100)
    other_task = make_task(make_project(owner, name="Other"), owner)
    assert add(owner, other_task, "b.txt", b"b" * 100).size == 100


# --- Who may upload -------------------------------------------------------------------------------


def test_viewer_cannot_upload(media_root: Path, task: Any, viewer: Any) -> None:
    with pytest.raises(PermissionDenied):
        add(viewer, task, "notes.txt", files.TEXT)
    assert stored_files(media_root) == []


def test_non_member_gets_not_found(media_root: Path, task: Any, outsider: Any) -> None:
    with pytest.raises(NotFound):
        add(outsider, task, "notes.txt", files.TEXT)
    with pytest.raises(NotFound):
        services.attachment_add(actor=outsider, task_id=999_999, file=upload("a.txt", b"a"))
    assert stored_files(media_root) == []


def test_a_non_member_learns_nothing_about_the_file(
    media_root: Path, task: Any, outsider: Any
) -> None:
    """The access check comes before any look at the bytes: no validation error leaks."""
    with pytest.raises(NotFound):
        add(outsider, task, "bomb.png", files.PDF)


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_members_and_above_upload(
    request: pytest.FixtureRequest, media_root: Path, task: Any, role: str
) -> None:
    user = request.getfixturevalue(role)
    assert add(user, task, "notes.txt", files.TEXT).uploaded_by == user


# --- Never a partial write ------------------------------------------------------------------------


def test_a_failure_inside_the_transaction_removes_the_stored_file(
    media_root: Path, monkeypatch: pytest.MonkeyPatch, task: Any, member: Any
) -> None:
    def explode(*args: Any) -> None:
        raise RuntimeError("event log unavailable")

    monkeypatch.setattr("tasks.events.attachment_added", explode)
    with pytest.raises(RuntimeError):
        add(member, task, "notes.txt", files.TEXT)

    assert not Attachment.objects.exists()
    assert stored_files(media_root) == []


def test_processing_is_enqueued_only_after_commit(
    media_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    task: Any,
    member: Any,
) -> None:
    from tasks import jobs

    enqueued: list[int] = []
    monkeypatch.setattr(jobs.process_attachment, "delay", enqueued.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        attachment = add(member, task, "notes.txt", files.TEXT)
    assert enqueued == []

    for callback in callbacks:
        callback()
    assert enqueued == [attachment.pk]
