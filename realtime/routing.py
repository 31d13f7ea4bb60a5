"""WebSocket routes: GraphQL subscriptions at /graphql, plain JSON event streams under /ws/."""

from __future__ import annotations

from channels.routing import URLRouter
from django.urls import re_path

from .auth import HandshakeAuthStack, OriginValidator, RefuseConnection
from .consumers import ProjectEventsConsumer, TaskEventsConsumer
from .graphql_ws import GraphQLTransportWSConsumer

websocket_urlpatterns = [
    re_path(r"^graphql/?$", GraphQLTransportWSConsumer.as_asgi()),
    re_path(r"^ws/projects/(?P<target_id>[^/]{1,200})/?$", ProjectEventsConsumer.as_asgi()),
    re_path(r"^ws/tasks/(?P<target_id>[^/]{1,200})/?$", TaskEventsConsumer.as_asgi()),
    re_path(r"", RefuseConnection.as_asgi()),
]


def websocket_application_stack() -> OriginValidator:
    """Origin first (a foreign page is refused before any database work), then credentials
    (bearer header or session cookie), then the route."""
    return OriginValidator(HandshakeAuthStack(URLRouter(websocket_urlpatterns)))
