"""Runs wrk (Debian's package; `make bench` installs it) and parses its report."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from urllib.parse import urlparse

from bench.server import pinned

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0


def _lua(method: str, headers: dict[str, str], body: str | None, cache_bust: bool) -> str:
    lines = [f'wrk.method = "{method}"']
    for name, value in headers.items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    if cache_bust:
        # A query parameter unique to each request: every request misses the response cache.
        lines += [
            "local counter = 0",
            "request = function()",
            "  counter = counter + 1",
            '  return wrk.format(nil, wrk.path .. "&_bust=" .. counter .. "-" .. math.random(1e9))',
            "end",
        ]
    lines += [
        "done = function(summary, latency, requests)",
        '  io.write(string.format("P50 %f\\nP99 %f\\n", latency:percentile(50) / 1000,'
        " latency:percentile(99) / 1000))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(output: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = float(re.search(r"^P50 ([\d.]+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = float(re.search(r"^P99 ([\d.]+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors_match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    count = re.search(r"(\d+) requests in", output)
    requests = int(count.group(1)) if count else 0
    return WrkResult(rps=rps, p50_ms=p50, p99_ms=p99, errors=errors, requests=requests)


def run_wrk(
    *,
    url: str,
    headers: dict[str, str],
    duration: int,
    json_body: object | None = None,
    cache_bust: bool = False,
    connections: int = 8,
    threads: int = 1,
    cpu: str | None = None,
) -> WrkResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench`, which installs it.")
    method = "POST" if json_body is not None else "GET"
    body = json.dumps(json_body) if json_body is not None else None
    if cache_bust and "?" not in urlparse(url).path + "?" + urlparse(url).query:
        url += "?"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(method, headers, body, cache_bust))
    output = subprocess.run(
        pinned(
            # wrk counts a response slower than --timeout (2 s by default) as a failed request;
            # the slowest peer (strawberry-django at first: 200) takes longer than that.
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout",
                "30s",
                "-s",
                script.name,
                url,
            ],
            cpu,
        ),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = parse(output)
    if result.errors:
        raise RuntimeError(f"{result.errors} failed requests against {url}:\n{output}")
    return result
