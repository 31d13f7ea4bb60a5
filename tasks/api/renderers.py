"""DRF's browsable pages for browser sessions, reduced to what these thin views support."""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import BrowsableAPIRenderer


class ApiBrowsableRenderer(BrowsableAPIRenderer):
    """The views are adapters over services, not model viewsets: there are no querysets to build
    filter forms from and no model serializers to build HTML forms from. The page keeps the
    response, the links and a raw JSON form for the methods the view allows."""

    def get_filter_form(self, data: Any, view: Any, request: Any) -> None:
        return None

    def get_rendered_html_form(self, data: Any, view: Any, method: str, request: Any) -> None:
        return None

    def get_raw_data_form(self, data: Any, view: Any, method: str, request: Any) -> Any:
        try:
            return super().get_raw_data_form(data, view, method, request)
        except (AssertionError, AttributeError, KeyError, TypeError):
            return None  # a view whose input has no serializer: the page simply has no form
