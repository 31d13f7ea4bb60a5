"""What every REST view shares: versioning, JSON in and out, problem details, the Idempotency-Key
handshake on POST and the `API-Version` header. Views stay thin adapters over services/selectors."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.metadata import SimpleMetadata
from rest_framework.pagination import BasePagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from tasks.api import idempotent
from tasks.api.pagination import PagePagination
from tasks.api.parsers import StrictJSONParser
from tasks.api.renderers import ApiBrowsableRenderer
from tasks.api.schema import ApiAutoSchema
from tasks.api.serializers import for_version
from tasks.api.versioning import ApiVersioning, version_of_path


class ApiMetadata(SimpleMetadata):
    """OPTIONS describes the endpoint, not its forms: the schema at /api/schema/ does that."""

    def determine_metadata(self, request: Request, view: Any) -> dict[str, Any]:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": "/api/schema/",
        }


class ApiView(GenericAPIView):  # type: ignore[type-arg]
    versioning_class = ApiVersioning
    # JSON first: clients that send no Accept (or */*) get JSON; browsers (text/html) get DRF's
    # browsable pages, which work with a Django login session (CSRF-protected forms).
    renderer_classes = [JSONRenderer, ApiBrowsableRenderer]
    parser_classes = [StrictJSONParser]
    pagination_class: type[BasePagination] | None = PagePagination
    schema = ApiAutoSchema()
    metadata_class = ApiMetadata

    output_serializer: type[Any]
    input_serializers: dict[str, type[Any]] = {}
    is_list = False
    page_numbers = False
    conditional = False

    @property
    def actor(self) -> User:
        """The signed-in user (the permission classes turned everyone else away already)."""
        return cast(User, self.request.user)

    def get_serializer_class(self) -> type[Any]:
        return for_version(self.output_serializer, getattr(self.request, "version", None))

    def render(self, instance: Any, status: int = 200, **headers: str) -> Response:
        return Response(self.get_serializer(instance).data, status=status, headers=headers)

    def render_page(self, queryset: Any) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def parse(self, method: str | None = None, *, partial: bool = False) -> dict[str, Any]:
        """The request body, validated for shape by the method's input serializer."""
        serializer_class = self.input_serializers[(method or self.request.method or "").lower()]
        serializer = serializer_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    # --- Idempotency-Key and API-Version --------------------------------------------------------

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """DRF's `initial`, except that throttles run before the permission check (and after a
        failed authentication), so anonymous and bad-token clients are rate limited too."""
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(
            request
        )
        request.version, request.versioning_scheme = self.determine_version(
            request, *args, **kwargs
        )
        try:
            self.perform_authentication(request)
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)
            raise
        self.check_throttles(request)
        self.check_permissions(request)
        request.idempotency_claim = idempotent.begin(request)  # type: ignore[attr-defined]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotent.Replay):
            return idempotent.replay_response(exc.record)
        return super().handle_exception(exc)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().dispatch(request, *args, **kwargs)
        except BaseException:
            claim = getattr(getattr(self, "request", None), "idempotency_claim", None)
            if claim is not None:
                idempotent.abandon(claim)
            raise

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        claim = getattr(request, "idempotency_claim", None)
        if claim is not None and isinstance(response, Response):
            request.idempotency_claim = None  # type: ignore[attr-defined]
            idempotent.complete(claim, response)
        version = getattr(request, "version", None) or version_of_path(request.path)
        response["API-Version"] = version
        return response
