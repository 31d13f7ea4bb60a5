"""The source behind the `projectPresence` subscription, and the root value the
graphql-transport-ws consumer hands every subscription (`SubscriptionRoot`: callable as the event
source, with the presence source as its `presence`), so graph/ never imports realtime/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from channels.db import database_sync_to_async
from graphql import GraphQLError

from graph.ids import decode_id
from project.auth import Refusal
from tasks.errors import NotFound
from tasks.selectors import project_get, task_get

from .presence import Present
from .subscriptions import _not_found, event_source
from .watch import Watch, get_watchdog


def _target(user: Any, project_id: object, task_id: object) -> tuple[int, int | None]:
    project = project_get(user, decode_id(project_id, "Project")).pk
    if task_id is None:
        return project, None
    try:
        task = task_get(user, decode_id(task_id, "Task"))
    except NotFound:
        raise _not_found("Task") from None
    if task.project_id != project:
        raise _not_found("Task")
    return project, task.pk


async def presence_source(
    context: Any, *, project_id: object, task_id: object = None, editing: bool = False
) -> AsyncIterator[list[dict[str, Any]]]:
    user = getattr(context, "user", None)
    if user is None or not user.is_authenticated:
        raise GraphQLError("Authentication required.", extensions={"code": "UNAUTHENTICATED"})
    try:
        project, task = await database_sync_to_async(_target)(user, project_id, task_id)
    except NotFound:
        raise _not_found("Project") from None
    if editing and task is None:
        raise GraphQLError(
            "`editing` needs a task: pass `taskId`.", extensions={"code": "BAD_USER_INPUT"}
        )
    latest: list[list[dict[str, Any]]] = []
    changed = asyncio.Event()
    revoked = False

    def push(viewers: list[dict[str, Any]]) -> None:
        latest[:] = [viewers]  # a slow client gets the latest list, not every one in between
        changed.set()

    def lost(refusal: Refusal) -> None:
        # Lost credentials close the whole socket (the consumer's own watch); a lost membership
        # ends this subscription only.
        nonlocal revoked
        if refusal is Refusal.MEMBERSHIP:
            revoked = True
            changed.set()

    present = Present(project, user)
    watch = Watch(context.credentials, project, lost)
    get_watchdog().add(watch)
    try:
        await present.set(task_id=task, editing=editing)
        current = await present.watch(push)
        if current is not None and not latest:
            yield current
        while True:
            await changed.wait()
            changed.clear()
            if revoked:
                raise _not_found("Project")
            if latest:
                yield latest.pop()
    finally:
        present.close()
        get_watchdog().discard(watch)


class SubscriptionRoot:
    """The root value of every subscription over graphql-transport-ws."""

    presence = staticmethod(presence_source)

    def __call__(self, context: Any, **arguments: Any) -> AsyncIterator[dict[str, Any]]:
        return event_source(context, **arguments)


subscription_root = SubscriptionRoot()
