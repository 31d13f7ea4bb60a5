"""S3-compatible storage is switched on by S3_BUCKET alone: a stored file is PUT to the bucket at
the configured endpoint (a local stand-in here), under the same random key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from tests.live import ROOT

SCRIPT = """
import json, django
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from tasks.uploads.storage import new_key
name = default_storage.save(new_key(7), ContentFile(b"hello s3"))
print(json.dumps({"backend": type(default_storage._wrapped).__name__, "name": name}))
"""


def test_s3_bucket_setting_stores_through_the_s3_api(httpserver: Any) -> None:
    httpserver.expect_request("/files-bucket/uploads/attachments/7/", method="PUT").respond_with_data(
        "", headers={"ETag": '"abc"'}
    )
    httpserver.no_handler_status_code = 200
    env = {
        **os.environ,
        "DEBUG": "1",
        "S3_BUCKET": "files-bucket",
        "S3_ENDPOINT_URL": httpserver.url_for("/"),
        "S3_REGION": "us-east-1",
        "S3_ADDRESSING_STYLE": "path",
        "S3_PREFIX": "uploads",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    out = json.loads(result.stdout.decode().strip().splitlines()[-1])

    assert out["backend"] == "S3Storage"
    assert out["name"].startswith("attachments/7/")
    [(request, _)] = [(r, s) for r, s in httpserver.log if r.method == "PUT"]
    assert request.path == f"/files-bucket/uploads/{out['name']}"
    assert request.get_data().endswith(b"hello s3") or b"hello s3" in request.get_data()
