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
from django.db import connection
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


@dataclass(frozen=True, slots=True)
class LogPosition:
    """Where the whole log stood at one moment: a stream without a cursor starts there.

    `event_id` is the newest event id committed then. On SQLite that is enough: writers take
    turns (BEGIN IMMEDIATE), so ids are in commit order. On PostgreSQL they are not: an id is
    taken at INSERT, and a change that took its id before another change committed can commit
    after it. Read between the two commits, the newest id counts the first change's event as
    before the position although it commits after, and a fresh stream that joined its group after
    it was published lost it. So on PostgreSQL the position also keeps the moment's `snapshot`
    (`pg_current_snapshot()`, read in the same statement) and the reading transaction's own id
    (`own_xact`, when it has one), and an event is before the position only if the transaction
    that wrote it (`Event.xact_id`) had committed in that snapshot, or is that reader."""

    event_id: int
    snapshot: str | None = None
    own_xact: int | None = None


START = LogPosition(0)

_EVENTS = Event._meta.db_table

# The interpolation is the model's own table name. A null `xact_id` counts as committed: since
# migration 0009 the column defaults to the writer's transaction, so null rows come from before
# it, from a release that did not set the column (before migration 0008, or one still serving
# while 0008 and 0009 were applied during a rolling deploy).
_LAST_SEQ_BEFORE = f"""
    SELECT seq FROM {_EVENTS}
    WHERE project_id = %(project_id)s AND id <= %(event_id)s AND (
        xact_id IS NULL
        OR xact_id = %(own_xact)s
        OR pg_visible_in_snapshot(xact_id::text::xid8, %(snapshot)s::pg_snapshot)
    )
    ORDER BY seq DESC LIMIT 1
"""  # noqa: S608


def current_position() -> LogPosition:
    """Where the log stands now (`LogPosition`): one statement."""
    if connection.vendor != "postgresql":
        newest = Event.objects.order_by("-pk").values_list("pk", flat=True).first()
        return LogPosition(int(newest or 0))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT max(id) FROM {_EVENTS}), pg_current_snapshot()::text,"  # noqa: S608
            " pg_current_xact_id_if_assigned()::text::bigint"
        )
        newest, snapshot, own_xact = cursor.fetchone()
    return LogPosition(int(newest or 0), snapshot, own_xact)


def seq_of_position(project_id: int, position: LogPosition) -> int:
    """The project's `seq` matching a global log position: the last of the project's events
    before it. Per project, `seq` order is commit order (both are taken under the project's log
    row lock), so every later `seq` is after the position."""
    if position.snapshot is None:
        last = Event.objects.filter(project_id=project_id, id__lte=position.event_id).aggregate(
            last=Max("seq")
        )["last"]
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                _LAST_SEQ_BEFORE,
                {
                    "project_id": project_id,
                    "event_id": position.event_id,
                    "snapshot": position.snapshot,
                    "own_xact": position.own_xact,
                },
            )
            row = cursor.fetchone()
        last = row[0] if row else None
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
