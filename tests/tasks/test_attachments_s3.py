"""S3-compatible storage is switched on by S3_BUCKET alone: a stored file is PUT to the bucket at
the configured endpoint (a local stand-in here), under the same random key."""

from __future__ import annotations

import json
import os
import re
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
    key = re.compile(r"^/files-bucket/uploads/attachments/7/[0-9a-f]{32}$")
    httpserver.expect_request(key, method="PUT").respond_with_data("", headers={"ETag": '"e"'})
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
    [(request, _)] = httpserver.log
    assert request.method == "PUT"
    assert request.path == f"/files-bucket/uploads/{out['name']}"
    assert b"hello s3" in request.get_data()
