"""Test databases of project/sqlite in write-ahead-log mode (project/settings.py sets
`journal_mode=WAL`): a database is its file plus `-wal` and `-shm` beside it while in use.

Django's SQLite creation removes and copies the database file alone. A copy lacks the
transactions still in the source's log, and a `-wal` left beside the path a copy is written to is
replayed into that copy (SQLite cannot tell the log belongs to another database; it discards one
only beside an empty file). So cloning a test database (Django's parallel runner) first
checkpoints the log into the file, and removes whatever lies beside the target; creating and
destroying one removes its log and shared-memory index with it, after this process's idle pooled
connections to it are closed (the last connection to close checkpoints the log and removes it).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from django.db.backends.sqlite3 import creation

from .pool import close_pool

SIDECARS = ("-wal", "-shm", "-journal")


def remove_sidecars(database_name: str) -> None:
    for suffix in SIDECARS:
        with contextlib.suppress(FileNotFoundError):
            os.remove(database_name + suffix)


class DatabaseCreation(creation.DatabaseCreation):
    def _create_test_db(self, verbosity: int, autoclobber: bool, keepdb: bool = False) -> Any:
        name = self._get_test_db_name()  # type: ignore[attr-defined]  # not in django-stubs
        fresh = not keepdb and not self.is_in_memory_db(name)
        if fresh:
            close_pool(name)  # the last connection to close checkpoints the log and removes it
        created = super()._create_test_db(verbosity, autoclobber, keepdb)  # type: ignore[misc]
        if fresh:  # Django removed the file (it exits at the user's "no")
            remove_sidecars(name)
        return created

    def _clone_test_db(self, suffix: Any, verbosity: int, keepdb: bool = False) -> None:
        source = self.connection.settings_dict["NAME"]
        if not self.is_in_memory_db(source):
            with self.connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if not keepdb:  # a kept clone keeps its own log
                remove_sidecars(self.get_test_db_clone_settings(suffix)["NAME"])
        super()._clone_test_db(suffix, verbosity, keepdb)  # type: ignore[misc]

    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        if test_database_name and not self.is_in_memory_db(test_database_name):
            close_pool(test_database_name)
        super()._destroy_test_db(test_database_name, verbosity)  # type: ignore[misc]
        if test_database_name and not self.is_in_memory_db(test_database_name):
            remove_sidecars(test_database_name)
