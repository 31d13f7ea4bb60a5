"""Static files (WhiteNoise) under the live ASGI server stream through an async iterator: the
same bytes and headers as WhiteNoise gives, and no "must consume synchronous iterators" warning
(made an error here, so the server would answer 500 if Django raised it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import drf_spectacular_sidecar
import httpx
import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("error:StreamingHttpResponse must consume"),
]

PATH = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"
FILE = Path(drf_spectacular_sidecar.__file__).parent / "static" / PATH.removeprefix("/static/")


def test_a_static_file_streams_whole_with_its_headers(asgi_server: Any) -> None:
    with httpx.Client(base_url=asgi_server.url, timeout=20) as http:
        response = http.get(PATH)
        assert response.status_code == 200
        assert response.content == FILE.read_bytes()
        assert response.headers["Content-Type"].startswith("text/css")
        assert response.headers["Content-Length"] == str(FILE.stat().st_size)

        etag = response.headers.get("ETag")
        if etag:  # a conditional GET has no body to stream
            assert http.get(PATH, headers={"If-None-Match": etag}).status_code == 304
        head = http.head(PATH)
        assert head.status_code == 200 and head.content == b""
        ranged = http.get(PATH, headers={"Range": "bytes=0-9"})
        assert ranged.status_code == 206 and ranged.content == FILE.read_bytes()[:10]
