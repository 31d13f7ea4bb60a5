"""The `graphql-transport-ws` protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md) at
`/graphql`. Each `subscribe` is prepared, subscribed and executed per event through
`graph.operation` (the pipeline HTTP uses: size and token limits, cached validation, limits);
this module only speaks the protocol: `connection_init` -> `connection_ack`, `subscribe` ->
`next`* -> `complete` (or `error`), `complete` from the client, `ping`/`pong`, and the protocol's
close codes. Each event is rendered by `shared_results` and reaches the client through the
operation's task (`next_payload`) or, for a payload-only selection with nothing queued ahead,
straight from the shared rendering (`DirectDelivery`, set on the subscription's context).

Per socket: at most `WEBSOCKET_MAX_SUBSCRIPTIONS` active subscriptions (the excess gets an `error`
with code `TOO_MANY_SUBSCRIPTIONS`, the socket stays open) and at most
`WEBSOCKET_MAX_CONCURRENT_OPERATIONS` event executions in flight.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from django.conf import settings
from graphql import (
    ExecutionResult,
    GraphQLError,
    OperationType,
)

from project.auth import READ_SCOPE, bearer_from_header
from tasks.continuity import LogPosition

from .auth import Credentials, credentials_from_token
from .base import CLOSE_INTERNAL, RelayConsumer
from .event_execution import EventOperation
from .groups import LayerUnavailable
from .presence_source import subscription_root
from .shared_results import DirectDelivery, canonical, next_payload, shared_key
from .streams import log_position_now
from .subscriptions import SubscriptionContext
from .watch import Watch, get_watchdog

logger = logging.getLogger(__name__)

SUBPROTOCOL = "graphql-transport-ws"

CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_INIT_TIMEOUT = 4408
CLOSE_DUPLICATE_ID = 4409
CLOSE_TOO_MANY_INITS = 4429
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"


def _dumps(message: object) -> str:
    return orjson.dumps(message).decode()


def _formatted(
    errors: list[GraphQLError], default_code: str = "INTERNAL_SERVER_ERROR"
) -> list[dict[str, Any]]:
    from graph.errors import format_error

    return [format_error(error, None, default_code) for error in errors]


class GraphQLTransportWSConsumer(RelayConsumer):
    metrics_kind = "graphql"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # every attribute first, in one order (RelayConsumer)
        self.credentials: Credentials | None = None
        self.init_received = False
        self.watch: Watch | None = None
        self.operations: dict[str, asyncio.Task[None]] = {}
        # Executions of this socket's operations in flight at once (each takes the worker thread
        # every query uses): one socket cannot queue a whole burst ahead of everyone else's.
        self.executing = asyncio.Semaphore(int(settings.WEBSOCKET_MAX_CONCURRENT_OPERATIONS))
        self.init_timer: asyncio.TimerHandle | None = None

    async def connect(self) -> None:
        offered = self.scope.get("subprotocols") or []
        if offered and SUBPROTOCOL not in offered:
            await self.close()  # before accept: the handshake is refused
            return
        await self.accept(SUBPROTOCOL if offered else None)
        self.init_timer = asyncio.get_running_loop().call_later(
            float(settings.WEBSOCKET_AUTH_TIMEOUT_SECONDS),
            self.close_now,
            CLOSE_INIT_TIMEOUT,
            "Connection initialisation timeout",
        )

    def release(self) -> None:
        if self.init_timer is not None:
            self.init_timer.cancel()
        for task in self.operations.values():
            task.cancel()
        if self.watch is not None:
            get_watchdog().discard(self.watch)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = orjson.loads(text_data) if text_data is not None else None
        except orjson.JSONDecodeError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            self.close_now(CLOSE_BAD_MESSAGE, "Invalid message received")
            return
        kind = message["type"]
        if kind == "connection_init":
            await self._init(message.get("payload"))
        elif kind == "ping":
            self.send_text('{"type":"pong"}')
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete":
            operation_id = message.get("id")
            if not isinstance(operation_id, str):
                self.close_now(CLOSE_BAD_MESSAGE, "Invalid message received")
                return
            task = self.operations.pop(operation_id, None)
            if task is not None:
                task.cancel()
        else:
            self.close_now(CLOSE_BAD_MESSAGE, "Invalid message received")

    # --- connection_init ---------------------------------------------------------------------

    async def _init(self, payload: object) -> None:
        if self.init_received:
            self.close_now(CLOSE_TOO_MANY_INITS, "Too many initialisation requests")
            return
        self.init_received = True
        if payload is not None and not isinstance(payload, dict):
            self.close_now(CLOSE_BAD_MESSAGE, "Invalid message received")
            return
        credentials = await self._credentials(payload or {})
        if self.closing:
            return
        if credentials is None or not credentials.has_scope(READ_SCOPE):
            self.close_now(CLOSE_FORBIDDEN, "Forbidden")
            return
        if self.init_timer is not None:
            self.init_timer.cancel()
        self.init_timer = None  # a cancelled handle still holds about 200 bytes, per socket
        self.credentials = credentials
        # Credentials that stop holding close the socket as refused ones do at init (API.md);
        # a lost membership ends only the subscriptions of that project (subscriptions.py).
        # A bound method, not a lambda: no function object and cell per socket.
        self.watch = Watch(credentials, None, self._credentials_lost)
        get_watchdog().add(self.watch)
        self.send_text('{"type":"connection_ack"}')

    def _credentials_lost(self, _refusal: object) -> None:
        self.close_now(CLOSE_FORBIDDEN, "Forbidden")

    async def _credentials(self, payload: dict[str, Any]) -> Credentials | None:
        header = payload.get("authorization", payload.get("Authorization"))
        if header is not None:
            token = bearer_from_header(header) if isinstance(header, str) else None
            return await credentials_from_token(token) if token else None
        if self.scope.get("credentials_rejected"):
            return None
        credentials: Credentials | None = self.scope.get("credentials")
        return credentials

    # --- subscribe ---------------------------------------------------------------------------

    async def _subscribe(self, message: dict[str, Any]) -> None:
        if self.credentials is None:
            self.close_now(CLOSE_UNAUTHORIZED, "Unauthorized")
            return
        operation_id = message.get("id")
        payload = message.get("payload")
        if (
            not isinstance(operation_id, str)
            or not operation_id
            or not isinstance(payload, dict)
            or not isinstance(payload.get("query"), str)
            or not isinstance(payload.get("variables") or {}, dict)
            or not isinstance(payload.get("operationName") or "", str)
        ):
            self.close_now(CLOSE_BAD_MESSAGE, "Invalid message received")
            return
        if operation_id in self.operations:
            self.close_now(
                CLOSE_DUPLICATE_ID, f"Subscriber for {operation_id[:100]} already exists"
            )
            return
        limit = int(settings.WEBSOCKET_MAX_SUBSCRIPTIONS)
        if len(self.operations) >= limit:
            error = {
                "message": f"This socket already holds {limit} subscriptions; complete one first.",
                "extensions": {"code": TOO_MANY_SUBSCRIPTIONS},
            }
            self._send_error(operation_id, [error])
            return
        # Where the log stands as the subscription is received: it starts there (gap-free).
        position = await log_position_now()
        if self.closing:
            return
        # The operation's parts, not the message's dict: the task keeps what it is given.
        self.operations[operation_id] = asyncio.get_running_loop().create_task(
            self._run(
                operation_id,
                payload["query"],
                payload.get("variables") or None,
                payload.get("operationName") or None,
                position,
            )
        )

    def _send_error(self, operation_id: str, errors: list[dict[str, Any]]) -> None:
        self.send_text(_dumps({"id": operation_id, "type": "error", "payload": errors}))

    async def _run(
        self,
        operation_id: str,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        position: LogPosition,
    ) -> None:
        """The operation's task, start to end. One coroutine, not a wrapper awaiting another:
        each frame lives as long as the subscription (about 0.3 KB per subscription)."""
        from graph.operation import OperationRefused, prepare, subscribe

        try:
            try:
                # The same pipeline as HTTP: size and token limits, cached validation, limits.
                prepared = prepare(query, variables, operation_name)
            except OperationRefused as refused:
                self._send_error(operation_id, _formatted(refused.errors, "BAD_USER_INPUT"))
                return
            operation = prepared.operation
            if operation.operation != OperationType.SUBSCRIPTION:
                self._send_error(
                    operation_id,
                    [
                        {
                            "message": "Only subscriptions are served over WebSocket; "
                            "send queries and mutations to /graphql over HTTP.",
                            "extensions": {"code": "BAD_USER_INPUT"},
                        }
                    ],
                )
                return
            assert self.credentials is not None
            shared = shared_key(prepared.document, operation, query, operation_name, variables)
            if shared is not None:
                shared, prepared = canonical(shared, prepared)
            # This frame lives as long as the subscription: not its own copies of what the
            # prepared operation holds.
            del query, variables
            prefix = f'{{"id":{_dumps(operation_id)},"type":"next","payload":'
            context = SubscriptionContext(self.credentials, log_position=position)
            event_operation = EventOperation(prepared, context)
            if shared is not None:
                context.direct = DirectDelivery(
                    shared=shared,
                    prefix=prefix,
                    send_text=self.send_text,
                    idle=self.outbox.idle,
                    operation=event_operation,
                )
            # The event source is the subscription's root value: graph/ does not import realtime/.
            stream = await subscribe(prepared, subscription_root, context)
            if isinstance(stream, ExecutionResult):
                # Variables that do not fit the operation, as over HTTP.
                self._send_error(operation_id, _formatted(stream.errors or [], "BAD_USER_INPUT"))
                return
            try:
                async for event in stream:
                    async with self.executing:
                        rendered = await next_payload(event_operation, event, shared)
                    self.send_text(f"{prefix}{rendered}}}")
            finally:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            self.send_text(_dumps({"id": operation_id, "type": "complete"}))
        except asyncio.CancelledError:
            raise
        except LayerUnavailable:
            self.close_now(CLOSE_INTERNAL, "Event stream lost")
        except GraphQLError as error:
            self._send_error(operation_id, _formatted([error]))
        except Exception as exc:
            logger.exception("subscription failed", extra={"operation_id": operation_id})
            wrapped = GraphQLError(str(exc), original_error=exc)
            self._send_error(operation_id, _formatted([wrapped]))
        finally:
            if self.operations.get(operation_id) is asyncio.current_task():
                del self.operations[operation_id]
