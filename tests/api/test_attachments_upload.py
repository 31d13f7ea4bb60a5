"""POST tasks/{id}/attachments/ (multipart, field `file`): the thin adapter over
`services.attachment_add`, its refusals as problem details, access, and Idempotency-Key replay of an
upload (fingerprinted from the parsed file, never from the raw body)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from graphql_relay import to_global_id

from tasks.models import Attachment, Event
from tests.api.conftest import assert_problem
from tests.factories import make_task
from tests.tasks.attachment_files import PDF, TEXT, plain_zip, png, png_with_html

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def task(project: Any, member: Any) -> Any:
    return make_task(project, member, title="Ship the release")


def upload(
    client: Any, task: Any, data: bytes, name: str, content_type: str = "", **headers: Any
) -> Any:
    file = SimpleUploadedFile(name, data, content_type=content_type or "application/octet-stream")
    return client.client.post(
        client.url(f"tasks/{task.pk}/attachments/"), {"file": file}, format="multipart", **headers
    )


def stored_files(media_root: Any) -> list[Any]:
    return [path for path in media_root.rglob("*") if path.is_file()] if media_root.exists() else []


def test_member_uploads_a_file_v1(api: Any, member: Any, task: Any, media_root: Any) -> None:
    response = upload(api(member), task, PDF, "Quarterly report.pdf", "image/png")

    assert response.status_code == 201, response.content
    body = response.json()
    attachment = Attachment.objects.get(task=task)
    assert body["id"] == attachment.pk
    assert body["node_id"] == to_global_id("Attachment", attachment.pk)
    assert body["task"] == task.pk
    assert body["name"] == "Quarterly report.pdf"
    assert body["size"] == len(PDF)
    assert body["content_type"] == "application/pdf"  # sniffed, not the client's claim
    assert body["uploaded_by"] == member.pk
    assert body["download_url"].endswith(f"/api/v1/attachments/{attachment.pk}/download/")
    assert response["Location"].endswith(f"/api/v1/attachments/{attachment.pk}/")
    assert response["API-Version"] == "v1"
    added = Event.objects.get(type="attachment.added")
    assert (added.task_id, added.actor_id) == (task.pk, member.pk)
    # Stored under a random key, never the client's name.
    assert [path.name for path in stored_files(media_root)] != ["Quarterly report.pdf"]
    assert "Quarterly" not in attachment.file.name


def test_upload_v2_nests_the_user_and_links(api: Any, member: Any, task: Any) -> None:
    response = upload(api(member, version="v2"), task, png((40, 30)), "pixel.png")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png"
    assert body["uploaded_by"]["username"] == "mia"
    rels = {link["rel"]: link for link in body["links"]}
    assert rels["download"]["href"].endswith(f"/api/v2/attachments/{body['id']}/download/")
    assert rels["delete"]["method"] == "DELETE"
    assert response["API-Version"] == "v2"


def test_uploaded_bytes_download_unchanged(api: Any, member: Any, viewer: Any, task: Any) -> None:
    body = upload(api(member), task, TEXT, "notes.txt").json()

    response = api(viewer).get(f"attachments/{body['id']}/download/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == TEXT
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="notes.txt"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_too_large_is_413_and_stores_nothing(
    api: Any, member: Any, task: Any, settings: Any, media_root: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1000
    data = TEXT * 200
    assert len(data) > 1000

    body = assert_problem(upload(api(member), task, data, "notes.txt"), 413, "too_large")

    assert list(body["errors"]) == ["file"]
    assert not Attachment.objects.exists()
    assert not Event.objects.filter(type="attachment.added").exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        pytest.param(plain_zip(), "archive.zip", "unsupported_type", id="disallowed-type"),
        pytest.param(PDF, "photo.png", "type_mismatch", id="extension-lies"),
        pytest.param(png_with_html(), "pixel.png", "unsupported_type", id="png-html-polyglot"),
        pytest.param(b"", "empty.txt", "required", id="empty"),
    ],
)
def test_refusals_are_400_problems_on_file(
    api: Any, member: Any, task: Any, media_root: Any, data: bytes, name: str, code: str
) -> None:
    response = upload(api(member), task, data, name)

    body = assert_problem(response, 400, "invalid")
    assert [(p["name"], p["code"]) for p in body["invalid_params"]] == [("file", code)]
    assert list(body["errors"]) == ["file"]
    assert not Attachment.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("../../etc/pass\x00wd.pdf", "passwd.pdf"), ("..\\..\\evil.pdf", "evil.pdf")],
)
def test_path_traversal_and_nul_names_are_only_cleaned_metadata(
    api: Any, member: Any, task: Any, raw: str, clean: str
) -> None:
    response = upload(api(member), task, PDF, raw)

    assert response.status_code == 201, response.content
    assert response.json()["name"] == clean
    assert clean not in Attachment.objects.get().file.name


def test_missing_file_part_is_required(api: Any, member: Any, task: Any) -> None:
    client = api(member)
    response = client.client.post(
        client.url(f"tasks/{task.pk}/attachments/"), {"name": "x"}, format="multipart"
    )
    body = assert_problem(response, 400, "invalid")
    assert body["invalid_params"][0]["code"] == "required"


def test_a_json_body_is_415(api: Any, member: Any, task: Any) -> None:
    response = api(member).post(f"tasks/{task.pk}/attachments/", {"file": "aGVsbG8="})
    assert_problem(response, 415)


def test_a_malformed_multipart_body_is_400_not_500(api: Any, member: Any, task: Any) -> None:
    client = api(member)
    response = client.client.generic(
        "POST",
        client.url(f"tasks/{task.pk}/attachments/"),
        b'--nope\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nabc',
        content_type="multipart/form-data; boundary=",
    )
    assert_problem(response, 400)
    assert not Attachment.objects.exists()


def test_viewer_is_403_and_outsider_404(
    api: Any, viewer: Any, outsider: Any, task: Any, media_root: Any
) -> None:
    assert_problem(upload(api(viewer), task, PDF, "a.pdf"), 403, "permission_denied")
    assert_problem(upload(api(outsider), task, PDF, "a.pdf"), 404, "not_found")
    assert not Attachment.objects.exists()
    assert stored_files(media_root) == []


def test_read_scope_cannot_upload(api: Any, member: Any, task: Any) -> None:
    assert_problem(upload(api(member, scope="read"), task, PDF, "a.pdf"), 403)
    assert not Attachment.objects.exists()


def test_idempotent_upload_replays_the_first_response(api: Any, member: Any, task: Any) -> None:
    client = api(member)
    first = upload(client, task, PDF, "report.pdf", HTTP_IDEMPOTENCY_KEY="upload-1")
    again = upload(client, task, PDF, "report.pdf", HTTP_IDEMPOTENCY_KEY="upload-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert Attachment.objects.count() == 1
    assert Event.objects.filter(type="attachment.added").count() == 1


def test_same_key_with_other_bytes_is_422(api: Any, member: Any, task: Any) -> None:
    client = api(member)
    assert upload(client, task, PDF, "r.pdf", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    other = PDF.replace(b"Catalog", b"Catalog ")
    assert hashlib.sha256(other).digest() != hashlib.sha256(PDF).digest()

    response = upload(client, task, other, "r.pdf", HTTP_IDEMPOTENCY_KEY="k")

    assert_problem(response, 422, "idempotency_key_reused")
    assert Attachment.objects.count() == 1


def test_idempotency_never_reads_the_multipart_body_whole(
    api: Any, member: Any, task: Any, settings: Any
) -> None:
    """Reading `request.body` would refuse any body over DATA_UPLOAD_MAX_MEMORY_SIZE (and buffer
    the whole upload in memory); the fingerprint hashes the parsed file instead."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    data = TEXT * 200
    assert len(data) > 1024

    response = upload(api(member), task, data, "notes.txt", HTTP_IDEMPOTENCY_KEY="big")

    assert response.status_code == 201, response.content
    assert response.json()["size"] == len(data)
