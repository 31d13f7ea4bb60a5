"""With REDIS_URL set and no Celery worker running (CI's second pass), an upload through the
live server still answers 201 with the right sha256 and size, over REST and GraphQL; the derived
work waits in the queue, and `/readyz` tells the operator that jobs wait with no worker. On the
embedded default the jobs run in-process and `/readyz` says so."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gql import FileVar, GraphQLRequest
from graphql_relay import to_global_id

from project import job_queue
from project.celery import app as celery_app
from tests.conftest import REDIS
from tests.factories import make_task, make_token
from tests.tasks.attachment_files import PDF, png

from .graphql_client import client_for
from .test_graphql_upload import UPLOAD

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def empty_queue(settings: Any) -> Iterator[None]:
    settings.JOB_WORKER_CHECK_SECONDS = 0  # ask the workers on every probe
    if REDIS:
        celery_app.control.purge()
    job_queue.forget_workers()
    yield
    if REDIS:
        celery_app.control.purge()  # the jobs this test left for a worker that never came
    job_queue.forget_workers()


def test_uploads_answer_201_with_the_sha256_without_a_worker(
    asgi_server: Any, empty_queue: None, project: Any, member: Any
) -> None:
    assert celery_app.conf.task_always_eager is not REDIS  # a broker and no worker, or eager
    task = make_task(project, member, title="Ship it")
    token = make_token(member)
    image = png((40, 30))

    with httpx.Client(
        base_url=asgi_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=20
    ) as http:
        created = http.post(
            f"/api/v1/tasks/{task.pk}/attachments/",
            files={"file": ("shot.png", image, "image/png")},
        )
        assert created.status_code == 201, created.text
        rest = created.json()
        assert rest["sha256"] == hashlib.sha256(image).hexdigest()
        assert rest["size"] == len(image)

        graphql = client_for(asgi_server, token).execute(
            GraphQLRequest(
                UPLOAD,
                variable_values={
                    "input": {
                        "taskId": to_global_id("Task", task.pk),
                        "file": FileVar(io.BytesIO(PDF), filename="report.pdf"),
                    }
                },
            ),
            upload_files=True,
        )["uploadAttachment"]
        assert graphql["errors"] == []
        assert graphql["attachment"]["sha256"] == hashlib.sha256(PDF).hexdigest()
        assert graphql["attachment"]["size"] == len(PDF)

        ready = http.get("/readyz")

    assert ready.status_code == 200, ready.text  # a stalled queue does not take the web down
    if REDIS:
        # Nothing consumed the jobs: both attachments wait, and the probe says why.
        assert rest["state"] == "pending" and graphql["attachment"]["state"] == "PENDING"
        assert ready.json()["jobs"] == {"state": "stalled", "queued": 2, "workers": 0}
    else:
        assert rest["state"] == "processed" and graphql["attachment"]["state"] == "PROCESSED"
        assert ready.json()["jobs"] == {"state": "in_process"}
