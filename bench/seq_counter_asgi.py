"""The product's ASGI application with `Event.seq` taken from an in-process counter instead of the
`ProjectLog` upsert (tasks.events._next_seq): the "without seq" side of bench/seqcost.py, so the
bench shows what the upsert costs a write. Bench only: the numbers are unique (they start at the
clock in microseconds, far above any real `seq`) but neither gap-free nor shared by processes,
which is why this lives here and not behind a setting of the product."""

from __future__ import annotations

import itertools
import time

from project.asgi import application
from tasks import events

_counter = itertools.count(time.time_ns() // 1000)


def _counted_seq(project_id: int) -> tuple[int, bool]:
    # The upsert also answers whether the project has an active webhook; without it the change
    # must look them up, as it did before the upsert answered (True: the lookup runs).
    return next(_counter), True


events._next_seq = _counted_seq  # the one thing this entry exists to replace
# On PostgreSQL the upsert is a clause of the event's own statement; this side writes the event
# and its outbox entry with a statement each, around the counter, as on SQLite.
events._write_in_one_statement = events._write_in_steps

__all__ = ["application"]
