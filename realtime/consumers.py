"""Plain JSON WebSockets: `/ws/projects/<id>/` and `/ws/tasks/<id>/` (API.md).

Client -> server: `authenticate`, `resume` (`after`: an event id, or `afterSeq`: an `Event.seq`),
`ping`, `presence`, and on a task `comment.create`.
Server -> client: `ready` (authenticated and live; `fromSeq`: every event after it follows),
`resumed` (the answer to `resume`: `recovered` true and `fromSeq`, or false with a `reason`,
tasks.continuity), `event`, `pong`, `ack`, `error`, and `presence` (once the client sent one;
realtime/presence.py).
Close codes: 4401 bad or expired credentials, 4403 missing scope or removed from the project,
4404 not a member / unknown id, 4410 events were dropped for a slow client (resume),
1011 channel layer lost, 1008 rate limit, 1009 message too big.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from channels.db import database_sync_to_async
from django.conf import settings

from graph.ids import decode_id
from project.auth import READ_SCOPE, WRITE_SCOPE, Refusal
from tasks import services
from tasks.continuity import START, ResumePoint
from tasks.errors import NotFound, PermissionDenied, ValidationError
from tasks.events import comment_data
from tasks.selectors import project_get, task_get

from .auth import Credentials, credentials_from_token
from .base import CLOSE_INTERNAL, RelayConsumer
from .groups import LayerUnavailable
from .presence import Present
from .streams import EventStream, log_position_now, parse_cursor, parse_seq, start_point
from .watch import Watch, get_watchdog

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


def _dumps(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


class EventsConsumer(RelayConsumer):
    target_type = "Project"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # every attribute first, in one order (RelayConsumer)
        self.position = START
        self.target_id = 0
        self.credentials: Credentials | None = None
        self.stream: EventStream | None = None
        self.watch: Watch | None = None
        self.auth_timer: asyncio.TimerHandle | None = None
        self.present: Present | None = None

    async def connect(self) -> None:
        # Where the log stands as the handshake is received: the stream starts there, so it
        # misses nothing committed while it authenticates and joins (streams.py).
        self.position = await log_position_now()
        await self.accept()
        raw_id = self.scope["url_route"]["kwargs"]["target_id"]
        try:
            self.target_id = decode_id(raw_id, self.target_type)
        except NotFound:
            self.close_now(CLOSE_NOT_FOUND, "not found")
            return
        if self.scope.get("credentials_rejected"):
            self.close_now(CLOSE_UNAUTHENTICATED, "invalid or expired token")
            return
        credentials = self.scope.get("credentials")
        if credentials is not None:
            await self.start(credentials)
            return
        timeout = float(settings.WEBSOCKET_AUTH_TIMEOUT_SECONDS)
        self.auth_timer = asyncio.get_running_loop().call_later(
            timeout, self.close_now, CLOSE_UNAUTHENTICATED, "authentication timeout"
        )

    def resolve_project(self, user: Any) -> tuple[int, int | None]:
        """(project id, task id) of the target as `user` may see it; NotFound otherwise."""
        return project_get(user, self.target_id).pk, None

    def _resolve_start(self, user: Any) -> tuple[int, int | None, ResumePoint]:
        """The target and where its stream starts, in one trip to the database thread."""
        project_id, task_id = self.resolve_project(user)
        return project_id, task_id, start_point(project_id, task_id, position=self.position)

    async def start(self, credentials: Credentials) -> None:
        if self.auth_timer is not None:
            self.auth_timer.cancel()
        if not credentials.has_scope(READ_SCOPE):
            self.close_now(CLOSE_FORBIDDEN, "the token lacks the read scope")
            return
        user = credentials.user
        try:
            project_id, task_id, point = await database_sync_to_async(self._resolve_start)(user)
        except NotFound:
            self.close_now(CLOSE_NOT_FOUND, "not found")
            return
        self.credentials = credentials
        self.stream = EventStream(
            user=user,
            project_id=project_id,
            task_id=task_id,
            deliver=self._deliver,
            revoked=lambda: self.close_now(CLOSE_FORBIDDEN, "no longer a member"),
            lost=lambda: self.close_now(CLOSE_INTERNAL, "event stream lost"),
        )
        ready: dict[str, Any] = {"type": "ready", "projectId": project_id}
        if task_id is not None:
            ready["taskId"] = task_id
        ready["fromSeq"] = point.from_seq
        try:
            await self.stream.open(point.from_seq, joined=lambda: self.send_text(_dumps(ready)))
        except LayerUnavailable:
            self.close_now(CLOSE_INTERNAL, "event stream unavailable")
            return
        except NotFound:  # lost access between `ready` and the replay: as a removal
            self.stream.revoke()
            return
        if self.closing:
            return

        def lost(refusal: Refusal) -> None:
            if refusal is Refusal.CREDENTIALS:
                self.close_now(CLOSE_UNAUTHENTICATED, "credentials expired or revoked")
            elif refusal is Refusal.SCOPE:
                self.close_now(CLOSE_FORBIDDEN, "the credentials lack the read scope")
            else:
                self.close_now(CLOSE_FORBIDDEN, "no longer a member")

        self.watch = Watch(credentials, project_id, lost)
        get_watchdog().add(self.watch)
        # Present as a viewer (of the task, on a task socket) for as long as the socket is open.
        self.present = Present(project_id, user)
        await self.present.set(task_id=task_id, editing=False)

    def _deliver(self, event: dict[str, Any], text: str | None) -> None:
        self.send_text(text if text is not None else _dumps({"type": "event", "event": event}))

    def release(self) -> None:
        if self.auth_timer is not None:
            self.auth_timer.cancel()
        if self.stream is not None:
            self.stream.close()
        if self.watch is not None:
            get_watchdog().discard(self.watch)
        if self.present is not None:
            self.present.close()

    # --- Client messages ---------------------------------------------------------------------

    def error(self, code: str, message: str, request_id: Any = None, **extra: Any) -> None:
        payload: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if request_id is not None:
            payload["requestId"] = request_id
        self.send_text(_dumps({**payload, **extra}))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = orjson.loads(text_data if text_data is not None else bytes_data or b"")
        except orjson.JSONDecodeError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            if self.credentials is None:
                self.close_now(CLOSE_UNAUTHENTICATED, "authenticate first")
            else:
                self.error("bad_request", "Send a JSON object with a string `type`.")
            return
        kind = message["type"]
        if self.credentials is None:
            await self._authenticate(kind, message)
            return
        request_id = message.get("requestId")
        if not isinstance(request_id, str | int) or isinstance(request_id, bool):
            request_id = None
        if kind == "ping":
            self.send_text('{"type":"pong"}')
        elif kind == "resume":
            await self._resume(message.get("after"), message.get("afterSeq"))
        elif kind == "presence":
            await self._presence(message)
        elif kind == "comment.create" and self.target_type == "Task":
            await self._comment_create(message.get("body"), request_id)
        elif kind == "authenticate":
            self.error("already_authenticated", "This socket is already authenticated.")
        else:
            self.error("unknown_type", f"Unknown message type {kind[:50]!r}.", request_id)

    async def _authenticate(self, kind: str, message: dict[str, Any]) -> None:
        if kind != "authenticate" or self.stream is not None:
            self.close_now(CLOSE_UNAUTHENTICATED, "authenticate first")
            return
        credentials = await credentials_from_token(message.get("token"))
        if credentials is None:
            self.close_now(CLOSE_UNAUTHENTICATED, "invalid or expired token")
            return
        await self.start(credentials)

    async def _resume(self, after: object, after_seq: object) -> None:
        """Answers `resumed` (is the replay complete?), then replays what the socket missed; a
        replay that cannot be complete replays nothing: the client re-fetches state, and the
        socket stays live as it was."""
        try:
            cursor = parse_cursor(after)
            seq = parse_seq(after_seq)
        except ValueError:
            cursor = seq = None
        if (cursor is None) == (seq is None) or self.stream is None:
            self.error(
                "invalid_cursor", "Send `after` (an event id) or `afterSeq` (an `Event.seq`)."
            )
            return
        stream = self.stream
        point = await database_sync_to_async(start_point)(
            stream.project_id, stream.task_id, after_id=cursor, after_seq=seq
        )
        resumed: dict[str, Any] = {"type": "resumed", "recovered": point.recovered}
        if point.reason is not None:
            resumed["reason"] = point.reason
        resumed["fromSeq"] = point.from_seq
        self.send_text(_dumps(resumed))
        if not point.recovered:
            return
        try:
            await stream.replay(point.from_seq)
        except NotFound:
            stream.revoke()

    async def _presence(self, message: dict[str, Any]) -> None:
        """`{"type": "presence", "taskId"?, "editing"?}`: where this socket's user is (a task of
        the project, or the board when `taskId` is null; a task socket stays on its task) and
        whether they edit it; from the first one on, the socket also receives
        `{"type": "presence", "viewers": [...]}` now and on every change."""
        if self.present is None:
            return
        editing = message.get("editing", False)
        if not isinstance(editing, bool):
            self.error("bad_request", "`editing` must be true or false.")
            return
        raw_task = message.get("taskId")
        task_id = self.present.presence.task_id
        if self.target_type == "Project":
            try:
                task_id = None if raw_task is None else await self._task_of_project(raw_task)
            except NotFound:
                self.error("not_found", "Task not found in this project.")
                return
        if editing and task_id is None:
            self.error("bad_request", "`editing` needs a task: send its `taskId`.")
            return
        await self.present.set(task_id=task_id, editing=editing)
        current = await self.present.watch(self._push_presence)
        if current is not None:
            self._push_presence(current)

    def _push_presence(self, viewers: list[dict[str, Any]]) -> None:
        self.send_text(_dumps({"type": "presence", "viewers": viewers}))

    async def _task_of_project(self, raw_task: object) -> int:
        assert self.credentials is not None and self.present is not None
        user, project_id = self.credentials.user, self.present.project_id

        def lookup() -> int:
            task = task_get(user, decode_id(raw_task, "Task"))
            if task.project_id != project_id:
                raise NotFound("task")
            return int(task.pk)

        task_id: int = await database_sync_to_async(lookup)()
        return task_id

    async def _comment_create(self, body: object, request_id: Any) -> None:
        assert self.credentials is not None
        if not self.credentials.has_scope(WRITE_SCOPE):
            self.error("insufficient_scope", "The token lacks the write scope.", request_id)
            return
        try:
            comment = await database_sync_to_async(self._add_comment)(body)
        except ValidationError as exc:
            first = exc.errors[0]
            errors = [{"field": e.field, "code": e.code, "message": e.message} for e in exc.errors]
            self.error(first.code, first.message, request_id, errors=errors)
        except PermissionDenied as exc:
            self.error("forbidden", exc.message, request_id)
        except NotFound:
            self.error("not_found", "Task not found.", request_id)
        else:
            self.send_text(_dumps({"type": "ack", "requestId": request_id, "comment": comment}))

    def _add_comment(self, body: object) -> dict[str, Any]:
        assert self.credentials is not None
        comment = services.comment_add(
            actor=self.credentials.user, task_id=self.target_id, body=body
        )
        return comment_data(comment)


class ProjectEventsConsumer(EventsConsumer):
    target_type = "Project"


class TaskEventsConsumer(EventsConsumer):
    target_type = "Task"

    def resolve_project(self, user: Any) -> tuple[int, int | None]:
        task = task_get(user, self.target_id)
        return task.project_id, task.pk
