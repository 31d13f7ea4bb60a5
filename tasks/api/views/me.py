"""The authenticated user."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from tasks.api.serializers import UserSerializer

from .base import ApiView


class MeView(ApiView):
    output_serializer = UserSerializer

    def get(self, request: Request, **kwargs: Any) -> Response:
        return self.render(request.user)
