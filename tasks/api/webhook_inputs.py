"""Request bodies for webhooks: shape only. `tasks.webhooks` judges the URL (http(s), no private
address), the event type names and everything else, with the same codes as GraphQL."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .inputs import InputSerializer, StrictCharField
from .webhook_serializers import EVENT_TYPES_SCHEMA, EventTypesField

URL_SCHEMA = {"type": "string", "format": "uri", "maxLength": 2000}


@extend_schema_field(URL_SCHEMA)
class UrlField(StrictCharField):
    """The target URL, passed through as sent."""


@extend_schema_field({**EVENT_TYPES_SCHEMA, "nullable": True, "maxItems": 50})
class EventTypesInputField(EventTypesField):
    pass


@extend_schema_field({"type": "boolean"})
class StrictBooleanField(serializers.BooleanField):
    """Only JSON booleans: "yes" or 1 is not `true`."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


def _url(**kwargs: Any) -> UrlField:
    return UrlField(allow_blank=True, trim_whitespace=False, **kwargs)


def _event_types() -> EventTypesInputField:
    return EventTypesInputField(
        child=StrictCharField(max_length=64),
        required=False,
        allow_null=True,
        allow_empty=True,
        max_length=50,
        help_text="Event types to send; empty or null means every type.",
    )


class WebhookCreateInput(InputSerializer):
    url = _url()
    event_types = _event_types()
    active = StrictBooleanField(required=False)


class WebhookUpdateInput(InputSerializer):
    url = _url(required=False)
    event_types = _event_types()
    active = StrictBooleanField(required=False)
