"""The event log: one builder per event type, one row per change, published only after commit.

Every event is a JSON-safe dict in the API's shape (camelCase, GraphQL global IDs, enum values as
GraphQL shows them). The same dict is stored, replayed and pushed to every transport. An event is
written with its change and, in the same transaction, its pending after-commit work
(`tasks.outbox`); the outbox dispatcher calls `publish` and `bump_generation` after the commit.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import date, datetime
from typing import Any, Protocol

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from graphql_relay import to_global_id

from project.observability import EVENTS_PUBLISHED

from . import outbox
from .models import (
    Attachment,
    Comment,
    Event,
    Membership,
    OutboxEntry,
    Project,
    ProjectLog,
    Task,
    Webhook,
)

logger = logging.getLogger(__name__)

EVENT_MESSAGE_TYPE = "domain.event"


def project_group(project_id: int) -> str:
    return f"project.{project_id}"


def generation_key(project_id: int) -> str:
    return f"project-generation:{project_id}"


# --- How objects appear in events -----------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def user_data(user: Any) -> dict[str, Any] | None:
    if user is None or isinstance(user, AnonymousUser):
        return None
    full_name = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return {
        "id": to_global_id("User", user.pk),
        "pk": user.pk,
        "username": user.get_username(),
        "displayName": full_name or user.get_username(),
    }


def project_data(project: Project) -> dict[str, Any]:
    return {
        "id": to_global_id("Project", project.pk),
        "pk": project.pk,
        "name": project.name,
        "description": project.description,
        "createdAt": _iso(project.created_at),
    }


def task_data(task: Task) -> dict[str, Any]:
    return {
        "id": to_global_id("Task", task.pk),
        "pk": task.pk,
        "projectId": to_global_id("Project", task.project_id),
        "title": task.title,
        "description": task.description,
        "status": task.status.upper(),
        "priority": task.priority.upper(),
        "dueDate": _iso(task.due_date),
        "assignee": user_data(task.assignee) if task.assignee_id else None,
        "createdBy": user_data(task.created_by) if task.created_by_id else None,
        "createdAt": _iso(task.created_at),
        "updatedAt": _iso(task.updated_at),
        "completedAt": _iso(task.completed_at),
        "version": task.version,
    }


def comment_data(comment: Comment) -> dict[str, Any]:
    return {
        "id": to_global_id("Comment", comment.pk),
        "pk": comment.pk,
        "taskId": to_global_id("Task", comment.task_id),
        "author": user_data(comment.author) if comment.author_id else None,
        "body": comment.body,
        "createdAt": _iso(comment.created_at),
        "editedAt": _iso(comment.edited_at),
    }


def attachment_data(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": to_global_id("Attachment", attachment.pk),
        "pk": attachment.pk,
        "taskId": to_global_id("Task", attachment.task_id),
        "name": attachment.name,
        "size": attachment.size,
        "contentType": attachment.content_type,
        "sha256": attachment.sha256,
        "url": f"/api/v1/attachments/{attachment.pk}/download/",
        "width": attachment.width,
        "height": attachment.height,
        "state": attachment.state.upper(),
        "uploadedBy": user_data(attachment.uploaded_by) if attachment.uploaded_by_id else None,
        "uploadedAt": _iso(attachment.uploaded_at),
    }


def membership_data(membership: Membership) -> dict[str, Any]:
    return {
        "projectId": to_global_id("Project", membership.project_id),
        "user": user_data(membership.user),
        "role": membership.role.upper(),
        "joinedAt": _iso(membership.joined_at),
    }


def event_payload(event: Event) -> dict[str, Any]:
    """The wire form of an event, identical for live delivery and replay."""
    return {
        "id": str(event.pk),
        "seq": event.seq,
        "type": event.type,
        "projectId": to_global_id("Project", event.project_id),
        "taskId": to_global_id("Task", event.task_id) if event.task_id else None,
        "actor": user_data(event.actor) if event.actor_id else None,
        "data": event.data,
        "createdAt": _iso(event.created_at),
    }


# --- Recording and publishing ---------------------------------------------------------------------


def _record(
    *,
    type: Event.Type,
    project_id: int,
    actor: User | None,
    data: dict[str, Any],
    task_id: int | None = None,
) -> Event:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Events are recorded inside the transaction of their change.")
    fields = {"type": type, "project_id": project_id, "task_id": task_id, "actor": actor}
    if connection.vendor == "postgresql":
        event, has_webhooks = _write_in_one_statement(fields, data)
    else:
        event, has_webhooks = _write_in_steps(fields, data)
    outbox.follow(event, event_payload(event), has_webhooks=has_webhooks)
    return event


def _write_in_steps(fields: dict[str, Any], data: dict[str, Any]) -> tuple[Event, bool]:
    """The event, its number in its project's log and its outbox entry, one statement each
    (SQLite, which has no data-modifying `WITH`). Also whether the project has an active webhook."""
    seq, has_webhooks = _next_seq(fields["project_id"])
    event = Event.objects.create(seq=seq, data=data, **fields)
    outbox.add_entry(event)
    return event, has_webhooks


def _write_in_one_statement(fields: dict[str, Any], data: dict[str, Any]) -> tuple[Event, bool]:
    """What `_write_in_steps` does, in one statement on PostgreSQL: the `seq` upsert
    (`_next_seq`'s, with the same lock on the log row), the event's `INSERT` and its outbox
    entry's, chained by data-modifying `WITH` clauses. The event is built here from what was
    written and what the statement returned (its id, `seq` and `xact_id`), as `create()` would.

    Measured (PostgreSQL + Redis, one uvicorn process pinned to a core, `updateTask` over HTTP
    30 ms apart, 250 each, two alternating pairs, Intel Xeon): the event's writing (`_record`)
    2.06 / 2.12 ms in steps against 0.93 / 1.11 ms here (medians); the write's round trip 15.5 /
    16.1 against 12.9 / 14.8 ms. Two round trips and two ORM `INSERT` compilations less. The
    fan-out row of `make bench` did not show it above that machine's drift (bench/PROFILES.md,
    fourteenth pass). SQLite has no data-modifying `WITH` (and its statements do not leave the
    process)."""
    project_id = fields["project_id"]
    actor = fields["actor"]
    now = timezone.now()
    json_data = Event._meta.get_field("data").get_db_prep_save(data, connection)
    log, event_table, entry, webhooks = (
        connection.ops.quote_name(model._meta.db_table)
        for model in (ProjectLog, Event, OutboxEntry, Webhook)
    )
    # The only interpolations are the models' own table names, quoted. An outbox entry's foreign
    # key to its event is checked at commit (Django's are DEFERRABLE INITIALLY DEFERRED).
    statement = (
        f"WITH log AS (INSERT INTO {log} (project_id, last_seq, pruned_seq) VALUES (%s, 1, 0) "  # noqa: S608
        f"ON CONFLICT (project_id) DO UPDATE SET last_seq = {log}.last_seq + 1 "
        "RETURNING last_seq), "
        f"event AS (INSERT INTO {event_table} "
        "(project_id, seq, task_id, type, actor_id, data, created_at) "
        "SELECT %s, last_seq, %s, %s, %s, %s, %s FROM log RETURNING id, seq, xact_id), "
        f"entry AS (INSERT INTO {entry} (event_id, available_at) SELECT id, %s FROM event) "
        f"SELECT id, seq, xact_id, EXISTS (SELECT 1 FROM {webhooks} "
        f"WHERE {webhooks}.project_id = %s AND {webhooks}.active) FROM event"
    )
    params = [
        project_id,
        project_id,
        fields["task_id"],
        fields["type"],
        actor.pk if actor is not None else None,
        json_data,
        now,
        now + outbox.grace(),
        project_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        event_id, seq, xact_id, has_webhooks = cursor.fetchone()
    event = Event(id=event_id, seq=seq, xact_id=xact_id, data=data, created_at=now, **fields)
    event._state.adding = False
    event._state.db = connection.alias
    return event, bool(has_webhooks)


def _next_seq(project_id: int) -> tuple[int, bool]:
    """The project's next sequence number, in one statement: an upsert that creates the log row on
    a project's first event and otherwise increments it. The row stays locked until the change
    commits, so a concurrent change to the same project waits here and takes the next number:
    per project, `seq` order is commit order and has no gaps (a rolled-back change gives its
    number back with its row). Works alike on SQLite (3.35+) and PostgreSQL.

    The same statement answers whether the project has an active webhook (an index probe in its
    RETURNING), so the change looks its webhooks up (`webhook_delivery.create_for_event`) only
    when it has one: most projects have none, and the lookup was a statement of its own in every
    change. Measured (PostgreSQL + Redis, one uvicorn process, `updateTask` with 1,000 GraphQL
    subscribers, bench/subscriptions.py's fan-out row alone, three runs each): the write's round
    trip 12.5-13.2 ms with the lookup, 11.6-12.2 ms without."""
    table = connection.ops.quote_name(ProjectLog._meta.db_table)
    webhooks = connection.ops.quote_name(Webhook._meta.db_table)
    # The only interpolations are the models' own table names, quoted.
    upsert = (
        f"INSERT INTO {table} (project_id, last_seq, pruned_seq) VALUES (%s, 1, 0) "  # noqa: S608
        f"ON CONFLICT (project_id) DO UPDATE SET last_seq = {table}.last_seq + 1 "
        f"RETURNING last_seq, EXISTS (SELECT 1 FROM {webhooks} "
        f"WHERE {webhooks}.project_id = %s AND {webhooks}.active)"
    )
    with connection.cursor() as cursor:
        cursor.execute(upsert, [project_id, project_id])
        row = cursor.fetchone()
    return int(row[0]), bool(row[1])


class LocalRelay(Protocol):
    """The sockets of this process on one event loop (the realtime hub registers itself with
    `relay_locally_on`). An event the loop's dispatcher publishes is relayed to them by the
    dispatcher itself, not when the channel layer brings it back: the message carries `origin`
    and the hub skips its own."""

    origin: str

    def relay(self, project_id: int, payload: dict[str, Any]) -> None: ...


_local_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LocalRelay] = (
    weakref.WeakKeyDictionary()
)


def relay_locally_on(loop: asyncio.AbstractEventLoop, relay: LocalRelay) -> None:
    _local_relays[loop] = relay


def local_relay(loop: asyncio.AbstractEventLoop) -> LocalRelay | None:
    return _local_relays.get(loop)


def publish(payload: dict[str, Any], *, project_id: int) -> None:
    """Sends a committed event to its project's group from synchronous code."""
    async_to_sync(publish_async)(payload, project_id=project_id)


async def publish_async(
    payload: dict[str, Any], *, project_id: int, origin: str | None = None
) -> None:
    """Sends a committed event to its project's group (every socket on a task listens there and
    filters). Failures are logged: the change is already committed, and a client that missed a
    live event gets it by resuming with `after`. `origin` names the `LocalRelay` that relays the
    event to its own sockets."""
    message: dict[str, Any] = {"type": EVENT_MESSAGE_TYPE, "event": payload}
    if origin is not None:
        message["origin"] = origin
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        await layer.group_send(project_group(project_id), message)
        EVENTS_PUBLISHED.labels(payload["type"]).inc()
    except Exception:
        logger.exception(
            "event publish failed", extra={"event_id": payload["id"], "project_id": project_id}
        )


def bump_generation(project_id: int) -> None:
    key = generation_key(project_id)
    try:
        cache.incr(key)
    except ValueError:
        # Two first bumps can race: the one whose add loses still counts, by incrementing.
        if not cache.add(key, 1, timeout=None):
            cache.incr(key)


def current_generation(project_id: int) -> int:
    return int(cache.get(generation_key(project_id)) or 0)


# --- One builder per event type -------------------------------------------------------------------


def task_created(actor: User, task: Task) -> Event:
    return _record(
        type=Event.Type.TASK_CREATED,
        project_id=task.project_id,
        task_id=task.pk,
        actor=actor,
        data=task_data(task),
    )


def task_updated(actor: User, task: Task, changed_fields: list[str]) -> Event:
    return _record(
        type=Event.Type.TASK_UPDATED,
        project_id=task.project_id,
        task_id=task.pk,
        actor=actor,
        data={**task_data(task), "changedFields": changed_fields},
    )


def task_deleted(actor: User, task: Task) -> Event:
    return _record(
        type=Event.Type.TASK_DELETED,
        project_id=task.project_id,
        task_id=task.pk,
        actor=actor,
        data=task_data(task),
    )


def _comment_event(type: Event.Type, actor: User, comment: Comment) -> Event:
    return _record(
        type=type,
        project_id=comment.task.project_id,
        task_id=comment.task_id,
        actor=actor,
        data=comment_data(comment),
    )


def comment_created(actor: User, comment: Comment) -> Event:
    return _comment_event(Event.Type.COMMENT_CREATED, actor, comment)


def comment_updated(actor: User, comment: Comment) -> Event:
    return _comment_event(Event.Type.COMMENT_UPDATED, actor, comment)


def comment_deleted(actor: User, comment: Comment) -> Event:
    return _comment_event(Event.Type.COMMENT_DELETED, actor, comment)


def _attachment_event(type: Event.Type, actor: User | None, attachment: Attachment) -> Event:
    return _record(
        type=type,
        project_id=attachment.task.project_id,
        task_id=attachment.task_id,
        actor=actor,
        data=attachment_data(attachment),
    )


def attachment_added(actor: User, attachment: Attachment) -> Event:
    return _attachment_event(Event.Type.ATTACHMENT_ADDED, actor, attachment)


def attachment_processed(attachment: Attachment) -> Event:
    return _attachment_event(Event.Type.ATTACHMENT_PROCESSED, None, attachment)


def attachment_deleted(actor: User, attachment: Attachment) -> Event:
    return _attachment_event(Event.Type.ATTACHMENT_DELETED, actor, attachment)


def member_added(actor: User, membership: Membership) -> Event:
    return _record(
        type=Event.Type.MEMBER_ADDED,
        project_id=membership.project_id,
        actor=actor,
        data=membership_data(membership),
    )


def member_removed(actor: User, membership: Membership) -> Event:
    return _record(
        type=Event.Type.MEMBER_REMOVED,
        project_id=membership.project_id,
        actor=actor,
        data=membership_data(membership),
    )


def project_updated(actor: User, project: Project, changed_fields: list[str]) -> Event:
    return _record(
        type=Event.Type.PROJECT_UPDATED,
        project_id=project.pk,
        actor=actor,
        data={**project_data(project), "changedFields": changed_fields},
    )
