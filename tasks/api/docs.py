"""The OpenAPI schema (one document per API version: `/api/schema/` is v1, `?version=v2` is v2)
and the Swagger UI / ReDoc pages, whose scripts come from drf-spectacular-sidecar's static files,
so they work with no internet access."""

from __future__ import annotations

from typing import Any

from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from .versioning import ALLOWED_VERSIONS, DEFAULT_VERSION


class ApiSchemaView(SpectacularAPIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def _get_version_parameter(self, request: Any) -> str:
        version = request.GET.get("version")
        return version if version in ALLOWED_VERSIONS else DEFAULT_VERSION


class ApiSwaggerView(SpectacularSwaggerView):
    authentication_classes = ()
    permission_classes = (AllowAny,)


class ApiRedocView(SpectacularRedocView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    template_name = "tasks/api/redoc.html"  # no Google Fonts links
