"""The production ASGI entry (uvicorn, N worker processes) on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(command: list[str], cpu: str | None) -> list[str]:
    """`command` bound to one core with taskset (server and load generator on different cores,
    so they do not steal each other's time), or as is where that is not possible."""
    if cpu is None or shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return command
    return ["taskset", "-c", cpu, *command]


SERVER_CPU = "0"
LOAD_CPU = "1"


def pin_self(cpu: str) -> None:
    """Binds this process (the WebSocket clients of the realtime workloads) to `cpu`."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {int(cpu)})


class Server:
    def __init__(
        self,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
        app: str = "project.asgi:application",
        cpu: str | None = None,
    ) -> None:
        self.workers = workers
        self.app = app
        self.cpu = cpu
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            pinned(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    self.app,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    "--lifespan",
                    "off",
                    "--no-access-log",
                    "--ws-per-message-deflate",
                    "false",
                    "--log-level",
                    "warning",
                ],
                self.cpu,
            ),
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited at start")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def pids(self) -> list[int]:
        """The master and its workers (for memory measurements)."""
        assert self.process is not None
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [self.process.pid, *[int(p) for p in out.split()]]

    def cpu_seconds(self) -> float:
        """User + system CPU time the server's processes have used so far (from /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def wait_idle(self, timeout: float = 60.0, window: float = 0.25) -> bool:
        """Returns once the server used at most a tenth of a core over `window` seconds (or
        False after `timeout`). A server keeps working after wrk stops: a sync view in its
        thread runs to the end when its client is gone, and the slowest peer's last requests
        (strawberry-django at `first: 100`: seconds each, 8 in flight) then took the core from
        whatever was measured next on it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = self.cpu_seconds()
            time.sleep(window)
            if self.cpu_seconds() - before <= window / 10:
                return True
        return False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
