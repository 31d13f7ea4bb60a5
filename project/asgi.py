"""ASGI entry point: HTTP through Django, WebSockets through Channels.

WebSockets pass the Origin rule of API.md (a browser Origin must be an allowed host or a CORS
origin; no Origin is a non-browser client and passes), then handshake credentials (bearer header
or session cookie), then realtime.routing's routes (`/graphql`, `/ws/projects/<id>/`,
`/ws/tasks/<id>/`)."""

import os
from typing import Any, cast

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

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
