"""A REST upload through the live ASGI server with a real multipart client (httpx `files=`), then
the download of the same bytes with its protective headers."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from tasks.models import Attachment
from tests.factories import make_task, make_token
from tests.tasks.attachment_files import TEXT, png

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_upload_then_download_the_same_bytes(asgi_server: Any, member: Any, project: Any):
    task = make_task(project, member, title="Ship it")
    content = png((64, 48))
    headers = {"Authorization": f"Bearer {make_token(member)}"}

    with httpx.Client(base_url=asgi_server.url, headers=headers, timeout=20) as client:
        created = client.post(
            f"/api/v1/tasks/{task.pk}/attachments/",
            files={"file": ("Screenshot 1.png", content, "application/octet-stream")},
            headers={"Idempotency-Key": "e2e-upload"},
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["name"] == "Screenshot 1.png"
        assert body["content_type"] == "image/png"
        assert body["size"] == len(content)
        assert created.headers["API-Version"] == "v1"

        replayed = client.post(
            f"/api/v1/tasks/{task.pk}/attachments/",
            files={"file": ("Screenshot 1.png", content, "application/octet-stream")},
            headers={"Idempotency-Key": "e2e-upload"},
        )
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.json()["id"] == body["id"]
        assert Attachment.objects.count() == 1

        download = client.get(body["download_url"])

    assert download.status_code == 200, download.text
    assert download.content == content
    assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(content).hexdigest()
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"Screenshot 1.png\"; filename*=UTF-8''Screenshot%201.png"
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"].startswith("sandbox")
    assert download.headers["Cache-Control"] == "private, no-store"


def test_an_oversized_upload_is_413_over_the_wire(
    asgi_server: Any, member: Any, project: Any, settings: Any
):
    settings.ATTACHMENT_MAX_BYTES = 1000
    task = make_task(project, member, title="Ship it")

    response = httpx.post(
        f"{asgi_server.url}/api/v1/tasks/{task.pk}/attachments/",
        files={"file": ("notes.txt", TEXT * 200, "text/plain")},
        headers={"Authorization": f"Bearer {make_token(member)}"},
        timeout=20,
    )

    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "too_large"
    assert not Attachment.objects.exists()
