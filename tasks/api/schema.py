"""OpenAPI details drf-spectacular cannot guess: request bodies per method, list responses,
the problem-details errors of every operation, and the conditional / idempotency headers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser

from .exceptions import PROBLEM_CONTENT_TYPE
from .inputs import InputSerializer


class ProblemSerializer(serializers.Serializer[Any]):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine-readable code.")
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field name.",
    )
    invalid_params = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        required=False,
        help_text="The same problems as (name, code, reason) triples.",
    )


class ApiAutoSchema(AutoSchema):
    def _view_attr(self, name: str, default: Any = None) -> Any:
        return getattr(self.view, name, default)

    def get_request_serializer(self) -> Any:
        inputs = self._view_attr("input_serializers", {})
        return inputs.get(self.method.lower())

    def get_response_serializers(self) -> Any:
        if self.method == "GET" and self._view_attr("binary_response", False):
            return OpenApiTypes.BINARY
        return super().get_response_serializers()

    def _is_list_view(self, serializer: Any = None) -> bool:
        return self.method == "GET" and bool(self._view_attr("is_list", False))

    def _is_create_operation(self) -> bool:
        return self.method == "POST"

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self._error_codes():
            responses.setdefault(
                str(code),
                self._get_response_for_code(  # type: ignore[no-untyped-call]
                    ProblemSerializer, str(code), media_types=[PROBLEM_CONTENT_TYPE]
                ),
            )
        if self.method == "GET" and self._view_attr("conditional", False):
            responses["304"] = {"description": "Not modified (If-None-Match matched the ETag)."}
        return responses

    def _error_codes(self) -> list[int]:
        codes = [401, 403, 405, 406, 429]
        has_id = "{" in self.path
        if has_id:
            codes.append(404)
        if self.method != "DELETE" or self._view_attr("conditional", False):
            codes.append(400)
        if self.method in {"POST", "PUT", "PATCH"}:
            codes += [409, 415]
        if self.method == "POST":
            codes += [404, 422]  # 404: the parent (project, task) is not visible
            if any(issubclass(p, MultiPartParser) for p in self._view_attr("parser_classes", [])):
                codes.append(413)  # an upload over ATTACHMENT_MAX_BYTES
        if self._view_attr("conditional", False) and self.method in {"PUT", "PATCH", "DELETE"}:
            codes += [409, 412]
        codes += list(self._view_attr("error_codes", ()))  # a view's own (410 for changes)
        if self._view_attr("is_list", False) and self.method == "GET":
            codes.append(404 if self._view_attr("page_numbers", False) else 400)
        return sorted(set(codes))

    def get_override_parameters(self) -> list[Any]:
        params: list[Any] = []
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    description="Makes the POST safe to retry for 24 h (1-255 printable chars).",
                )
            )
        if self._view_attr("conditional", False):
            if self.method == "GET":
                params.append(OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER))
            elif self.method in {"PUT", "PATCH", "DELETE"}:
                params.append(
                    OpenApiParameter(
                        "If-Match",
                        str,
                        OpenApiParameter.HEADER,
                        description="Only change the task if its ETag still matches (else 412).",
                    )
                )
        return params

    def _map_serializer(
        self, serializer: Any, direction: Any, bypass_extensions: bool = False
    ) -> Any:
        schema = super()._map_serializer(  # type: ignore[no-untyped-call]
            serializer, direction, bypass_extensions
        )
        if isinstance(serializer, InputSerializer) or (
            isinstance(serializer, type) and issubclass(serializer, InputSerializer)
        ):
            schema["additionalProperties"] = False
        return schema


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Documents project.auth.BearerAuthentication: OAuth2 bearer tokens from /o/, `read` for
    safe methods and `write` for changes."""

    target_class = "project.auth.BearerAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scopes = {"read": "Read your projects and tasks", "write": "Change your projects and tasks"}
        return {
            "type": "oauth2",
            "description": "OAuth2 access token, sent as `Authorization: Bearer <token>`.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/o/authorize/",
                    "tokenUrl": "/o/token/",
                    "refreshUrl": "/o/token/",
                    "scopes": scopes,
                },
                "clientCredentials": {"tokenUrl": "/o/token/", "scopes": scopes},
            },
        }

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        safe = auto_schema.method in {"GET", "HEAD", "OPTIONS"}
        return {self.name: ["read" if safe else "write"]}
