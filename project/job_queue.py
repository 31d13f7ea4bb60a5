"""Whether background jobs are being consumed: for `/readyz` (project.health).

With a broker (REDIS_URL) an upload answers 201 at once and its derived work (thumbnails) waits
in the queue for a Celery worker. With no worker running nothing fails, the queue just grows and
attachments stay `pending`: this tells an operator so. The queue length is one cheap broker call
(kombu's passive `queue_declare`); only when jobs are waiting are the workers pinged
(`app.control.ping`, which waits its whole timeout), and the answer is kept for
JOB_WORKER_CHECK_SECONDS so a probe every few seconds does not wait on it each time.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from kombu.exceptions import ChannelError

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_workers_seen: tuple[float, int] | None = None  # (monotonic time, number of workers)


def _celery_app() -> Any:
    from project.celery import app

    return app


def queued_jobs() -> int:
    app = _celery_app()
    queue = app.conf.task_default_queue
    with app.connection_for_read() as connection:
        try:
            declared = connection.default_channel.queue_declare(queue=queue, passive=True)
        except ChannelError:  # Redis keeps no key for an empty queue: "no such queue" is 0
            return 0
    return int(declared.message_count)


def _ping_workers() -> int:
    replies = _celery_app().control.ping(timeout=float(settings.JOB_WORKER_PING_TIMEOUT_SECONDS))
    return len(replies or [])


def live_workers() -> int:
    """Workers that answered a ping, remembered for JOB_WORKER_CHECK_SECONDS."""
    global _workers_seen
    with _lock:
        now = time.monotonic()
        if _workers_seen is None or now - _workers_seen[0] >= settings.JOB_WORKER_CHECK_SECONDS:
            _workers_seen = (now, _ping_workers())
        return _workers_seen[1]


def forget_workers() -> None:
    global _workers_seen
    with _lock:
        _workers_seen = None


def job_status() -> dict[str, Any]:
    """`{"state": "in_process"}` without a broker (jobs run inside the request's process);
    otherwise `ok`, or `stalled` when jobs are queued and no worker answers, with the counts;
    `unknown` when the broker cannot be asked (the cache check reports Redis itself)."""
    if _celery_app().conf.task_always_eager:
        return {"state": "in_process"}
    try:
        queued = queued_jobs()
        if queued == 0:
            return {"state": "ok", "queued": 0}
        workers = live_workers()
    except Exception as exc:  # noqa: BLE001 - a probe reports, it does not raise
        logger.warning("job queue check failed", extra={"error": repr(exc)})
        return {"state": "unknown"}
    return {"state": "ok" if workers else "stalled", "queued": queued, "workers": workers}
