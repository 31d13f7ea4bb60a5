"""A download of the largest allowed attachment through the live ASGI server (its own process,
uvicorn as in production) keeps the server's memory flat: its RSS, sampled from /proc while the
bytes flow, grows by less than 4 MB for a 32 MB file (bounded, not proportional to the file). The
old `FileResponse` under ASGI read the whole file into memory first and logged Django's warning
"StreamingHttpResponse must consume synchronous iterators"; the server's log must not have it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import POSTGRES
from tests.live import ROOT, ProcessServer

pytestmark = pytest.mark.e2e

MAX_BYTES = 32 * 1024 * 1024
GROWTH_LIMIT = 4 * 1024 * 1024

SEED = """
import json, os
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from tasks.models import Attachment
from tests.factories import UserFactory, make_project, make_task, make_token

user = UserFactory(username="downloader")
task = make_task(make_project(user, name="Downloads"), user, title="Big files")
ids = {}
for label, size in (("small", 1024), ("big", settings.ATTACHMENT_MAX_BYTES)):
    data = os.urandom(size)
    name = default_storage.save(f"attachments/{task.project_id}/{label}", ContentFile(data))
    ids[label] = Attachment.objects.create(
        task=task, file=name, name=f"{label}.pdf", size=size, content_type="application/pdf",
        sha256=__import__("hashlib").sha256(data).hexdigest(), state="processed",
        uploaded_by=user,
    ).pk
print(json.dumps({"ids": ids, "token": make_token(user)}))
"""


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(0.002)


@pytest.fixture
def server_env(tmp_path: Path, request: Any) -> dict[str, str]:
    env = {
        **os.environ,
        "DEBUG": "1",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "ATTACHMENT_MAX_BYTES": str(MAX_BYTES),
        "ATTACHMENT_PROJECT_QUOTA_BYTES": str(4 * MAX_BYTES),
        "THROTTLE_USER": "100000/min",
    }
    if POSTGRES:
        from tests.ops.infra import shared_database_url

        request.getfixturevalue("transactional_db")  # flushed after the test
        env["DATABASE_URL"] = shared_database_url()
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
        manage(env, "migrate", "--noinput")
    return env


def test_a_maximum_size_download_keeps_the_server_memory_flat(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    seeded = json.loads(manage(server_env, "shell", "-c", SEED).strip().splitlines()[-1])
    log = tmp_path / "server.log"
    server = ProcessServer(server_env, log_path=log).start()
    assert server.process is not None
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            # Warm the code path up with a small file, then measure the big one.
            small = http.get(f"/api/v1/attachments/{seeded['ids']['small']}/download/")
            assert small.status_code == 200 and len(small.content) == 1024
            baseline = rss_bytes(server.process.pid)
            sampler = RssSampler(server.process.pid)
            sampler.start()
            digest, received = hashlib.sha256(), 0
            with http.stream(
                "GET", f"/api/v1/attachments/{seeded['ids']['big']}/download/"
            ) as response:
                assert response.status_code == 200
                assert response.headers["Content-Length"] == str(MAX_BYTES)
                assert response.headers["Content-Disposition"].startswith("attachment;")
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                for chunk in response.iter_raw(64 * 1024):
                    digest.update(chunk)
                    received += len(chunk)
            sampler.running = False
            sampler.join()
    finally:
        server.stop()

    assert received == MAX_BYTES
    growth = sampler.peak - baseline
    assert growth < GROWTH_LIMIT, f"the server grew by {growth / 2**20:.1f} MB"
    assert "must consume synchronous iterators" not in log.read_text()
