"""`/readyz` reports the background jobs (project.job_queue): in-process without a broker; with
Redis, `stalled` while jobs wait and no worker answers, `ok` once a worker drains the queue. The
status code stays 200 either way (a stalled queue is not a reason to stop serving)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from project import job_queue
from project.celery import app as celery_app
from tasks import jobs
from tests.conftest import REDIS
from tests.tasks.test_attachments_jobs import celery_worker  # noqa: F401 - a fixture


@pytest.fixture
def fresh_queue(settings: Any) -> Iterator[None]:
    settings.JOB_WORKER_CHECK_SECONDS = 0
    if REDIS:
        celery_app.control.purge()
    job_queue.forget_workers()
    yield
    if REDIS:
        celery_app.control.purge()
    job_queue.forget_workers()


@pytest.mark.django_db
def test_readyz_reports_an_idle_queue(client: Any, fresh_queue: None) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    expected = {"state": "ok", "queued": 0} if REDIS else {"state": "in_process"}
    assert response.json()["jobs"] == expected


@pytest.mark.redis
def test_queued_jobs_without_a_worker_are_stalled_until_one_drains_them(
    fresh_queue: None, transactional_db: Any, client: Any, request: Any
) -> None:
    jobs.process_attachment.delay(2_000_000_000)  # no such attachment: the job is a no-op
    jobs.process_attachment.delay(2_000_000_001)

    stalled = client.get("/readyz")
    assert stalled.status_code == 200
    assert stalled.json()["jobs"] == {"state": "stalled", "queued": 2, "workers": 0}

    request.getfixturevalue("celery_worker")  # a worker starts consuming
    deadline = time.monotonic() + 30
    while job_queue.queued_jobs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get("/readyz").json()["jobs"] == {"state": "ok", "queued": 0}


@pytest.mark.redis
def test_a_broker_that_cannot_be_asked_is_unknown(
    fresh_queue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable() -> int:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(job_queue, "queued_jobs", unreachable)
    assert job_queue.job_status() == {"state": "unknown"}
