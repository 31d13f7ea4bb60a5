"""The real ASGI server on a free loopback port, in a thread of the test process (so it shares the
test database and the in-memory channel layer), or as a separate process (for scale-out tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import uvicorn

ROOT = Path(__file__).resolve().parent.parent


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with free_socket() as sock:
        return int(sock.getsockname()[1])


class ThreadedServer:
    def __init__(self) -> None:
        from project.asgi import application

        self.sock = free_socket()
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            application,
            lifespan="off",
            log_level="warning",
            ws="websockets-sansio",
            ws_ping_interval=None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def running_tasks(self) -> int:
        """How many ASGI tasks uvicorn is running: one per HTTP request being answered and one
        per WebSocket whose consumer has not returned (a consumer closed by its client still
        finishes the handler it is in, and that handler's queries)."""
        # `list()` copies the set in one step under the GIL, while the server's loop may change it.
        return sum(not task.done() for task in list(self.server.server_state.tasks))

    def wait_idle(self, timeout: float) -> bool:
        """True once no ASGI task is running, False if one still is after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.running_tasks():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class ProcessServer:
    """`uvicorn project.asgi:application` in its own process, with the given environment."""

    def __init__(
        self, env: dict[str, str], *, args: tuple[str, ...] = (), log_path: Path | None = None
    ) -> None:
        """`args`: more uvicorn options (a later option wins); `log_path`: where the process's
        stdout and stderr go (inherited otherwise)."""
        self.args = args
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        # A server process of its own runs as in production: what it loaded at start is frozen
        # out of the garbage collector (the suite's own process turns that off, pyproject.toml).
        self.env = {**os.environ, "GC_FREEZE_AT_START": "1", **env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ProcessServer:
        import httpx

        output = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "project.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
                *self.args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=output,
            stderr=output,
        )
        if output is not None:
            output.close()  # the child keeps its own descriptor
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server process exited at start")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the server process did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
