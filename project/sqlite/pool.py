"""The per-process pool of idle SQLite connections behind project/sqlite's DatabaseWrapper (its
docstring says why and how), one per database file."""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["ConnectionPool", "Identity", "close_pool", "pools", "pools_lock"]

Identity = tuple[int, int]  # (st_dev, st_ino) of the database file


class ConnectionPool:
    """Idle connections to one database file, for one process."""

    def __init__(self, path: str, max_size: int) -> None:
        self.path = path
        self.max_size = max_size
        self.pid = os.getpid()
        self._idle: list[tuple[Any, Identity]] = []
        self._lock = threading.Lock()

    def file_identity(self) -> Identity | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def take(self) -> tuple[Any, Identity] | None:
        """An idle connection still on this process's database file, or None."""
        while True:
            with self._lock:
                if not self._idle:
                    return None
                connection, identity = self._idle.pop()
            if identity == self.file_identity() and not connection.in_transaction:
                return connection, identity
            connection.close()

    def give(self, connection: Any, identity: Identity | None) -> None:
        """Keeps `connection` for the next taker, or closes it."""
        if identity is not None and not connection.in_transaction:
            with self._lock:
                if len(self._idle) < self.max_size:
                    self._idle.append((connection, identity))
                    return
        connection.close()

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection, _identity in idle:
            connection.close()


# Per database file name; a forked child replaces its parent's (DatabaseWrapper.pool).
pools: dict[str, ConnectionPool] = {}
pools_lock = threading.Lock()


def close_pool(name: str) -> None:
    """Closes this process's idle connections to the database file `name`."""
    with pools_lock:
        pool = pools.get(name)
    if pool is not None:
        pool.close_all()
