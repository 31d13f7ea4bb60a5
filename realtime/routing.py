"""WebSocket routing. The realtime issue fills this in; until then every socket is refused."""

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path


class _Refuse(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.close(code=4404)


from channels.routing import URLRouter  # noqa: E402

websocket_application = URLRouter([re_path(r"^.*$", _Refuse.as_asgi())])
