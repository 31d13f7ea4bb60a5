"""The OpenAPI schema (one document per API version: `/api/schema/` is v1, `?version=v2` is v2)
and the Swagger UI / ReDoc pages, whose scripts come from drf-spectacular-sidecar's static files,
so they work with no internet access.

The pages also carry a Content-Security-Policy that allows this origin only: ReDoc's bundle
hard-codes its footer logo at https://cdn.redoc.ly/ (no option turns it off), and under the
policy the browser never requests it (ReDoc then leaves the image out)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .versioning import ALLOWED_VERSIONS, DEFAULT_VERSION


class ApiSchemaView(SpectacularAPIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def _get_version_parameter(self, request: Any) -> str:
        version = request.GET.get("version")
        return version if version in ALLOWED_VERSIONS else DEFAULT_VERSION


# Inline styles and the inline init script come with the library's templates; workers are
# ReDoc's search index (a blob: worker).
SAME_ORIGIN_ONLY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ]
)


class SameOriginOnly(APIView):
    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = SAME_ORIGIN_ONLY
        return response


class ApiSwaggerView(SameOriginOnly, SpectacularSwaggerView):
    authentication_classes = ()
    permission_classes = (AllowAny,)


class ApiRedocView(SameOriginOnly, SpectacularRedocView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    template_name = "tasks/api/redoc.html"  # no Google Fonts links
