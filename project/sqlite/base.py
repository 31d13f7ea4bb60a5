"""Django's SQLite backend, with open connections kept for reuse: what `OPTIONS["pool"]` does
for Django's PostgreSQL backend, for the embedded default.

Why: under ASGI, Django runs each request's sync code in a thread of its own and keeps one
connection per thread, so every request opened a SQLite connection and closed it at
`request_finished`. Opening the file is cheap; what costs is that a new connection parses the
whole schema at its first statement and prepares every statement again (the sqlite3 module's
statement cache lives with the connection). Measured in-process on the bench database: a fresh
connection and one query, 1.38 ms of CPU; the same query on an open connection, 0.28 ms. perf
on the server during `updateTask` requests showed libsqlite3 at 15% of the process's samples,
mostly the parser and `sqlite3CreateIndex` (schema loading), and the query execution itself
under 1%. Under uvicorn (two servers side by side, 15 rounds of 20 `updateTask` requests,
medians), pooling cut the server's CPU per request from 11.0 to 9.0 ms with Django's own
middleware, and from 10.0 to 7.5 ms with project/loop_middleware.py's (bench/PROFILES.md).

How: `close()` hands the open `sqlite3.Connection` to the pool instead of closing it, and the
next `connect()` in this process (any thread) takes one from there before opening a new one.
Django's `connect()` still runs in full on a pooled connection (autocommit, the
`connection_created` signal), and the PRAGMAs Django sets at open are set again. A connection
goes back only in a clean state: not inside an atomic block, no transaction open (anything else
is closed for good). One taken from the pool is checked first against the process (a connection
never crosses a fork: Celery's prefork children and uvicorn's workers open their own) and
against the database file (deleted or replaced since the connection opened: closed instead; a
test run re-creates its database file). In-memory databases and `file:` URIs are not pooled.
`OPTIONS["pool"] = {"max_size": N}` turns it on, at most N idle connections kept. The SQLite
connection is shareable across threads (Django opens it with `check_same_thread=False`), and the
pool hands each one to a single holder at a time.
"""

from __future__ import annotations

import os
from typing import Any

from django.db.backends.sqlite3 import base

from .creation import DatabaseCreation
from .pool import ConnectionPool, Identity, pools, pools_lock

__all__ = ["DatabaseWrapper"]


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
    _identity: Identity | None = None

    @property
    def pool(self) -> ConnectionPool | None:
        options = self.settings_dict["OPTIONS"].get("pool")
        name = str(self.settings_dict["NAME"])
        if not options or self.is_in_memory_db() or name.startswith("file:"):
            return None
        with pools_lock:
            pool = pools.get(name)
            if pool is None or pool.pid != os.getpid():
                # A forked child starts a pool of its own: the parent's idle connections are
                # never handed out in it.
                pool = pools[name] = ConnectionPool(name, int(options.get("max_size", 10)))
            return pool

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        params.pop("pool", None)
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        pool = self.pool
        if pool is not None:
            taken = pool.take()
            if taken is not None:
                connection, self._identity = taken
                # What Django's get_new_connection sets on a new connection, set again: a
                # schema editor turns foreign keys off and back on, a failure between the two
                # must not outlive its use (PRAGMAs read no schema: microseconds).
                connection.execute("PRAGMA foreign_keys = ON")
                connection.execute("PRAGMA legacy_alter_table = OFF")
                init_commands: list[str] = getattr(self, "init_commands", [])  # Django's
                for init_command in init_commands:
                    if init_command := init_command.strip():
                        connection.execute(init_command)
                return connection
        connection = super().get_new_connection(conn_params)
        self._identity = pool.file_identity() if pool is not None else None
        return connection

    def _close(self) -> None:
        pool = self.pool
        if pool is None or self.connection is None or self.in_atomic_block:
            # Closed inside an atomic block, Django keeps the connection object and rolls
            # back on it later: it must not be handed to anyone else.
            super()._close()  # type: ignore[misc]
            return
        with self.wrap_database_errors:
            pool.give(self.connection, self._identity)
