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


def _counted_seq(project_id: int) -> int:
    return next(_counter)


events._next_seq = _counted_seq  # the one thing this entry exists to replace

__all__ = ["application"]
