"""Whether a resumed stream can be complete: the answer a client gets before its replay.

A client resumes from a position in its project's log: the `seq` of the last event it has
(`afterSeq`), or that event's id (`after`, mapped to its `seq`). The replay is complete
(`recovered`) when every event after the position is still stored and there are not too many of
them; otherwise the stream says why, goes live from the log's head instead, and the client
re-fetches state, as Centrifugo (`recovered: false`) and Ably (`resumed: false`) clients do:

- `CURSOR_TOO_OLD`: the position is below the replay floor (tasks.retention): events are pruned.
- `CURSOR_UNKNOWN`: an `after` id that is no event of this project, or a `seq` beyond the head.
- `TOO_MANY_MISSED`: more than `EVENT_REPLAY_MAX` events to replay; a fresh query is cheaper.

Transports call `resume_point` after they have checked the user may see the project.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max

from .models import Event, ProjectLog
from .selectors import is_storable_id

CURSOR_TOO_OLD = "CURSOR_TOO_OLD"
CURSOR_UNKNOWN = "CURSOR_UNKNOWN"
TOO_MANY_MISSED = "TOO_MANY_MISSED"
REASONS = (CURSOR_TOO_OLD, CURSOR_UNKNOWN, TOO_MANY_MISSED)


@dataclass(frozen=True)
class ResumePoint:
    """Where a stream starts (`from_seq`: it delivers every event with a greater `seq`) and
    whether that is where the client asked (`recovered`) or, with `reason`, the head instead."""

    from_seq: int
    recovered: bool = True
    reason: str | None = None


def _log(project_id: int) -> tuple[int, int]:
    """(head, floor): the last `seq` handed out and the last one pruned."""
    row = (
        ProjectLog.objects.filter(project_id=project_id)
        .values_list("last_seq", "pruned_seq")
        .first()
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


def seq_of_position(project_id: int, position: int) -> int:
    """The project's `seq` matching a global log position (the newest event id when a stream
    without a cursor was received): the last of the project's events at or before it. A
    project's ids grow with its `seq` (both are taken under its log row lock), so every event
    after it in `seq` is after the position too."""
    last = Event.objects.filter(project_id=project_id, id__lte=position).aggregate(last=Max("seq"))[
        "last"
    ]
    if last is not None:
        return int(last)
    return _log(project_id)[1]  # nothing left at or before it: start past what was pruned


def resume_point(
    project_id: int,
    *,
    after_id: int | None = None,
    after_seq: int | None = None,
    task_id: int | None = None,
) -> ResumePoint:
    """Where a stream resuming after `after_seq` (or after the event `after_id`) starts, and
    whether its replay is complete. Event id 0 means the start of the log (`seq` 0). For a task
    stream the number missed counts that task's events only."""
    head, floor = _log(project_id)
    if after_seq is None:
        if not after_id:
            after_seq = 0
        elif not is_storable_id(after_id):  # no such event; and SQLite refuses the number
            return ResumePoint(head, False, CURSOR_UNKNOWN)
        else:
            found = (
                Event.objects.filter(project_id=project_id, id=after_id)
                .values_list("seq", flat=True)
                .first()
            )
            if found is None:
                # Pruned events are the project's oldest, so a cursor older than every event
                # still stored may be one of them: too old rather than unknown.
                older_kept = Event.objects.filter(project_id=project_id, id__lt=after_id)
                if floor and not older_kept.exists():
                    return ResumePoint(head, False, CURSOR_TOO_OLD)
                return ResumePoint(head, False, CURSOR_UNKNOWN)
            after_seq = int(found)
    if after_seq > head:
        return ResumePoint(head, False, CURSOR_UNKNOWN)
    if after_seq < floor:
        return ResumePoint(head, False, CURSOR_TOO_OLD)
    limit = int(settings.EVENT_REPLAY_MAX)
    missed = head - after_seq
    if missed > limit and task_id is not None:
        # Only this task's events are replayed: count those (at most one past the limit).
        missed = len(
            Event.objects.filter(project_id=project_id, task_id=task_id, seq__gt=after_seq)
            .order_by()
            .values_list("seq", flat=True)[: limit + 1]
        )
    if missed > limit:
        return ResumePoint(head, False, TOO_MANY_MISSED)
    return ResumePoint(after_seq)
