"""ASGI entry point: HTTP through Django, WebSockets through Channels.

WebSockets pass the Origin rule of API.md (a browser Origin must be an allowed host or a CORS
origin; no Origin is a non-browser client and passes), then handshake credentials (bearer header
or session cookie), then realtime.routing's routes (`/graphql`, `/ws/projects/<id>/`,
`/ws/tasks/<id>/`)."""

import gc
import os
from typing import Any, cast

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402
from graphene_django.settings import graphene_settings  # noqa: E402

from realtime.routing import websocket_application_stack  # noqa: E402
from tasks.outbox import RelayAfterResponse, SweepInProcess  # noqa: E402
from tasks.uploads.asgi import RequestBodyLimit  # noqa: E402

# The embedded default has no Celery beat: each web process sweeps the outbox itself.
application = SweepInProcess(
    ProtocolTypeRouter(
        {
            # Over-limit bodies get 413 while they stream, before Django spools them to disk.
            # (django-stubs types the handler's scope as a plain dict; it is any ASGI scope.)
            # A request's committed events go out once its response is sent (tasks/outbox.py).
            "http": RelayAfterResponse(RequestBodyLimit(cast(Any, django_asgi_app))),
            # Open sockets are counted by the consumers (realtime/base.py).
            "websocket": websocket_application_stack(),
        }
    )
)


def freeze_startup_objects() -> None:
    """Moves every object the process has loaded so far (modules, settings, the URLconf and the
    views, the GraphQL schema) into the garbage collector's permanent generation (`gc.freeze`),
    which its collections skip. They live as long as the process anyway; a full collection then
    walks what came later: the sockets, their consumers and their streams.

    Measured (bench/PROFILES.md, "thirteenth pass"): a full collection in a server with no
    socket took 99-107 ms, and about 1 ms with this (148,000 objects frozen); with 1,000
    subscribed sockets, 152-194 ms, and 64-100 ms with this. It stops the loop that relays every
    event, so such a pause lands in some change's delivery time (the benchmark's slowest fan-out
    windows, 250 ms against a median of 45, were one each). Objects freed by reference counting
    are freed as before; only a reference cycle among the frozen objects, made garbage after
    start, would never be collected. Done once per process: each uvicorn worker imports this
    module itself. Off with GC_FREEZE_AT_START=0 (the test suite's own process)."""
    if not settings.GC_FREEZE_AT_START:
        return
    # Import now, not on the first request: every view, and the schema the GraphQL view loads
    # lazily from GRAPHENE["SCHEMA"].
    get_resolver().url_patterns  # noqa: B018
    graphene_settings.SCHEMA  # noqa: B018
    gc.collect()  # what is garbage now is collected, not frozen
    gc.freeze()


freeze_startup_objects()
