"""Under /api/: every response carries `API-Version`, and the errors Django itself produces (no
URL matched, an unhandled exception) are problem details too, never an HTML page or a traceback."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from project.middleware import ResponseMiddleware

from .exceptions import PROBLEM_CONTENT_TYPE, log_unhandled, problem_response
from .versioning import version_of_path

API_PREFIX = "/api/"


class ApiProblemMiddleware(ResponseMiddleware):
    def process(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return response
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and not content_type.startswith(
            (PROBLEM_CONTENT_TYPE, "application/json")
        ):
            response = self._replace(response)
        if not response.has_header("API-Version"):
            response["API-Version"] = version_of_path(request.path, request.GET.get("version"))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        log_unhandled(request, exception)
        return problem_response(500, "server_error", "The server could not answer this request.")

    @staticmethod
    def _replace(response: HttpResponse) -> HttpResponse:
        status_code = response.status_code
        if status_code == 404:
            return problem_response(404, "not_found", "No such resource.")
        if status_code == 405:
            replaced = problem_response(405, "method_not_allowed", "Method not allowed.")
            if response.has_header("Allow"):
                replaced["Allow"] = response["Allow"]
            return replaced
        if status_code >= 500:
            return problem_response(status_code, "server_error", "The server failed.")
        code = "forbidden" if status_code == 403 else "bad_request"
        return problem_response(status_code, code, response.reason_phrase or "Request failed.")
