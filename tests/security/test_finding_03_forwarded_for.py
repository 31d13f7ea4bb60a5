"""Finding 3: the anonymous throttle is keyed on the client address the server trusts, not on an
X-Forwarded-For header the client picks. DRF's NUM_PROXIES defaults to 0 (REMOTE_ADDR only);
uvicorn rewrites REMOTE_ADDR from proxy headers only for peers in FORWARDED_ALLOW_IPS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import ProcessServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 5


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ProcessServer]:
    # The proxy uvicorn trusts is somewhere else: this loopback client is not it.
    process = ProcessServer(
        {
            "THROTTLE_ANON": f"{LIMIT}/min",
            "DATABASE_URL": "",
            "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        },
        args=("--proxy-headers", "--forwarded-allow-ips", "192.0.2.10"),
    ).start()
    yield process
    process.stop()


def test_finding_3_forwarded_for_rotation_does_not_escape_the_anonymous_throttle(
    server: ProcessServer,
) -> None:
    statuses = []
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for n in range(LIMIT + 2):
            response = http.post(
                "/graphql",
                json={"query": "{ viewer { id } }"},
                headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
            )
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert int(response.headers["Retry-After"]) > 0
                [error] = response.json()["errors"]
                assert error["extensions"]["code"] == "RATE_LIMITED"
    assert statuses == [401] * LIMIT + [429, 429]


def test_finding_3_forwarded_for_no_image_trusts_every_proxy() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert not re.search(r"forwarded-allow-ips[\"'\s,=]*\*", dockerfile)
    assert "FORWARDED_ALLOW_IPS" in (ROOT / "docker-compose.yml").read_text()
