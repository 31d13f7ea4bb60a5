"""`/graphql` over HTTP (GraphQL-over-HTTP spec) on graphene-django's `GraphQLView`, and GraphiQL
for browsers.

graphene-django's view is configured through the `GRAPHENE` setting (schema, middleware) and
extended at its hooks (`dispatch`, `parse_body`, `get_response`, `execute_graphql_request`,
`format_error`, `json_encode`, `render_graphiql`). What it cannot do for the contract (API.md):

- `dispatch`: its own always answers `application/json`, never `application/graphql-response+json`
  (the spec's media type, chosen here from `Accept`), answers every error without a path with 400,
  and is wrapped in `ensure_csrf_cookie`, whose token check reads `request.POST` before the
  multipart upload limits are installed (a file would stream in unbounded). Ours negotiates the
  media type, applies the Origin rule, authenticates, then calls the hooks below.
- `parse_body`: theirs accepts form bodies and `application/graphql`, decodes variables leniently
  and answers bad JSON with plain text; ours reads JSON, GET parameters and the GraphQL multipart
  request spec into coded errors (graph/http.py, graph/multipart.py).
- `get_response` / `execute_graphql_request`: theirs parses without a token limit or a size limit
  and validates every request from scratch; ours goes through `graph.operation` (the pipeline the
  WebSocket transport shares), with automatic persisted queries, scopes, throttling and
  `Idempotency-Key` around it.
- `format_error`: masks unexpected errors and adds the request id (graph/errors.py).
"""

from __future__ import annotations

import re
from typing import Any, cast

import orjson
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from graphene_django.views import GraphQLView
from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
)

from project.auth import (
    READ_SCOPE,
    WRITE_SCOPE,
    AuthOutcome,
    authenticate_http_request,
    bearer_challenge,
)
from project.origin import origin_allowed
from tasks import idempotency
from tasks.api.throttles import throttle_wait

from . import csrf, multipart, operation, persisted
from .errors import (
    BAD_USER_INPUT,
    FORBIDDEN,
    INTERNAL_SERVER_ERROR,
    RATE_LIMITED,
    UNAUTHENTICATED,
    format_error,
)
from .http import (
    GRAPHQL_RESPONSE,
    Params,
    RequestError,
    negotiate,
    read_params,
    request_id,
    wants_html,
)
from .mutations.webhook import redact_shown_secrets
from .validation import introspection_allowed

_SUGGESTION = re.compile(r" ?Did you mean .*\?$")
IDEMPOTENCY_SCOPE = "graphql"
ORIGIN_REFUSED = "Requests from this Origin are refused: it is not an allowed host or CORS origin."


class _Answered(Exception):
    """A complete answer found before execution (a persisted-query miss, an idempotent replay)."""

    def __init__(self, body: dict[str, Any], status: int, headers: dict[str, str]) -> None:
        super().__init__("answered")
        self.body, self.status, self.headers = body, status, headers


class TaskHubGraphQLView(GraphQLView):
    graphiql = True
    graphiql_template = "graph/graphiql.html"

    # Django's View makes one instance per request, so per-request state lives here.
    rid = ""
    media = GRAPHQL_RESPONSE
    outcome: AuthOutcome | None = None
    idempotency_claim: dict[str, Any] | None = None
    request_fingerprint = ""
    remember_digest: str | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.rid = request_id(request)
        if request.method == "GET" and wants_html(request):
            response = self.render_graphiql(request)
        else:
            response = self._serve(request)
        response["X-Request-ID"] = self.rid
        return response

    @method_decorator(ensure_csrf_cookie)
    def render_graphiql(self, request: HttpRequest, **data: Any) -> HttpResponse:
        """The offline GraphiQL (graph/templates, graph/static): no CDN, and the CSRF token for
        session requests made from the page."""
        return render(request, self.graphiql_template, {"endpoint": request.path})

    def _serve(self, request: HttpRequest) -> HttpResponse:
        media = negotiate(request.META.get("HTTP_ACCEPT", ""))
        if media is None:
            return HttpResponse(
                "Acceptable: application/graphql-response+json, application/json", status=406
            )
        self.media = media
        try:
            if request.method not in ("GET", "POST"):
                raise RequestError("Use GET or POST.", status=405, headers={"Allow": "GET, POST"})
            if not origin_allowed(request.META.get("HTTP_ORIGIN")):
                # API.md's Origin rule, as on the WebSocket: a page of a foreign site is refused
                # whatever credentials it carries; clients sending no Origin are not browsers.
                raise RequestError(ORIGIN_REFUSED, code=FORBIDDEN, status=403)
            if multipart.is_multipart(request):
                _parse_multipart(request)  # before the CSRF check reads request.POST
            self.outcome = csrf.with_preflight(request, authenticate_http_request(request))
            if self.outcome.failure == "query_token":
                raise RequestError(
                    self.outcome.message,
                    code=UNAUTHENTICATED,
                    status=400,
                    headers={"WWW-Authenticate": self.outcome.challenge()},
                )
            encoded, status = self.get_response(request, self.parse_body(request))
            headers: dict[str, str] = {}
        except RequestError as error:
            body = {"errors": [format_error(error.error, None)]}
            encoded, status, headers = self.json_encode(request, body), error.status, error.headers
        except _Answered as answered:
            encoded = self.json_encode(request, answered.body)
            status, headers = answered.status, answered.headers
        response = HttpResponse(encoded, status=status, content_type=f"{media}; charset=utf-8")
        for name, value in headers.items():
            response[name] = value
        return response

    def parse_body(self, request: HttpRequest) -> Params:
        return read_params(request)

    def json_encode(self, request: HttpRequest, d: Any, pretty: bool = False) -> bytes:
        return orjson.dumps(d)

    def format_error(self, error: Any, default_code: str = INTERNAL_SERVER_ERROR) -> dict[str, Any]:
        if not isinstance(error, GraphQLError):
            error = GraphQLError(str(error), original_error=error)
        item = format_error(error, self.rid, default_code)
        if not introspection_allowed():
            item["message"] = _SUGGESTION.sub("", item["message"])
        return item

    def get_response(
        self, request: HttpRequest, data: Params, show_graphiql: bool = False
    ) -> tuple[bytes, int]:
        try:
            query, self.remember_digest = persisted.resolve_query(data.query, data.extensions)
        except persisted.PersistedQueryError as error:
            missing = {"errors": [format_error(error.error, self.rid)]}
            raise _Answered(missing, error.status, {}) from None
        if not isinstance(query, str) or not query.strip():
            raise RequestError("Send a `query`.")
        try:
            result = self.execute_graphql_request(
                request, data, query, data.variables, data.operation_name
            )
        except operation.OperationRefused as refused:
            return self._refused(request, refused)
        except BaseException:
            if self.idempotency_claim is not None:
                idempotency.abandon(**self.idempotency_claim)
            raise
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [
                self.format_error(error, INTERNAL_SERVER_ERROR if error.path else BAD_USER_INPUT)
                for error in result.errors
            ]
        body["data"] = result.data
        status = _status(result, self.media)
        encoded = self.json_encode(request, body)
        if self.idempotency_claim is not None:
            stored = redact_shown_secrets(request, orjson.loads(encoded))
            idempotency.complete(
                **self.idempotency_claim,
                request_fingerprint=self.request_fingerprint,
                response={"status": status, "body": stored},
            )
        return encoded, status

    def _refused(
        self, request: HttpRequest, refused: operation.OperationRefused
    ) -> tuple[bytes, int]:
        body = {"errors": [self.format_error(error, BAD_USER_INPUT) for error in refused.errors]}
        if refused.stage == "too_large":
            return self.json_encode(request, body), 413
        if refused.stage == "operation":
            return self.json_encode(request, body), 400
        return self.json_encode(request, body), 400 if self.media == GRAPHQL_RESPONSE else 200

    def execute_graphql_request(
        self,
        request: HttpRequest,
        data: Params,
        query: str,
        variables: dict[str, Any],
        operation_name: str | None,
        show_graphiql: bool = False,
    ) -> ExecutionResult:
        prepared = operation.prepare(
            query,
            variables,
            operation_name,
            schema=self.schema.graphql_schema,
            admit=lambda chosen: self._admit(request, data, chosen),
        )
        if self.remember_digest is not None:  # only once the query is known to be valid
            persisted.remember(self.remember_digest, query)
        if prepared.kind == OperationType.MUTATION:
            self._claim_idempotency(request, data, query)
        result = operation.execute(
            prepared, self.get_root_value(request), request, middleware=self.get_middleware(request)
        )
        assert isinstance(result, ExecutionResult)  # resolvers are synchronous over HTTP
        return result

    def _admit(self, request: HttpRequest, data: Params, chosen: OperationDefinitionNode) -> None:
        """Runs after parsing and before validation: requests that may not run the operation
        never cost a validation."""
        is_mutation = chosen.operation == OperationType.MUTATION
        if chosen.operation == OperationType.SUBSCRIPTION:
            raise RequestError("Subscriptions run over WebSocket (graphql-transport-ws).")
        if is_mutation and request.method == "GET":
            raise RequestError("Mutations need POST.", status=405, headers={"Allow": "POST"})
        if data.multipart and not is_mutation:
            raise RequestError("Multipart requests (file uploads) are for mutations only.")
        assert self.outcome is not None
        request.user = cast(Any, self.outcome.user) or AnonymousUser()
        request.is_graphql_mutation = is_mutation  # type: ignore[attr-defined]
        wait = throttle_wait(request)
        if wait is not None:
            retry_after = str(max(1, int(wait + 0.999)))
            raise RequestError(
                "Too many requests; slow down.",
                code=RATE_LIMITED,
                status=429,
                headers={"Retry-After": retry_after},
            )
        _authorize(self.outcome, chosen, is_mutation)

    def _claim_idempotency(self, request: HttpRequest, data: Params, query: str) -> None:
        key = request.META.get("HTTP_IDEMPOTENCY_KEY")
        user = self.outcome.user if self.outcome is not None else None
        if key is None or user is None:
            return
        if not idempotency.valid_key(key):
            raise RequestError("The Idempotency-Key header is invalid.")
        self.request_fingerprint = idempotency.fingerprint(
            query,
            orjson.dumps(
                data.variables, option=orjson.OPT_SORT_KEYS, default=multipart.upload_fingerprint
            ),
            data.operation_name or "",
        )
        claim = {"scope": IDEMPOTENCY_SCOPE, "user_key": str(user.pk), "key": key}
        begun = idempotency.begin(**claim, request_fingerprint=self.request_fingerprint)
        if begun.outcome == "mismatch":
            message = "This Idempotency-Key was used with a different request."
            raise RequestError(message, status=422)
        if begun.outcome == "in_flight":
            raise RequestError("A request with this Idempotency-Key is still running.", status=409)
        if begun.outcome == "replay" and begun.response is not None:
            stored = begun.response
            raise _Answered(stored["body"], stored["status"], {"Idempotent-Replayed": "true"})
        self.idempotency_claim = claim


graphql_view = csrf_exempt(TaskHubGraphQLView.as_view())


def _parse_multipart(request: HttpRequest) -> None:
    try:
        multipart.parse_body(request)
    except multipart.InvalidMultipart as error:
        raise RequestError(str(error), status=error.status) from None


def _authorize(outcome: AuthOutcome, operation: OperationDefinitionNode, is_mutation: bool) -> None:
    if outcome.failure == "missing":
        if not is_mutation and introspection_allowed() and _only_introspection(operation):
            return  # lets GraphiQL load the schema before a token is entered
        raise RequestError(
            outcome.message,
            code=UNAUTHENTICATED,
            status=401,
            headers={"WWW-Authenticate": outcome.challenge()},
        )
    if outcome.failure == "csrf":
        raise RequestError(csrf.MESSAGE, code=FORBIDDEN, status=403)
    if outcome.failure is not None:
        raise RequestError(
            outcome.message,
            code=UNAUTHENTICATED,
            status=401,
            headers={"WWW-Authenticate": outcome.challenge()},
        )
    needed = WRITE_SCOPE if is_mutation else READ_SCOPE
    if not outcome.has_scope(needed):
        raise RequestError(
            f"The access token lacks the `{needed}` scope.",
            code=FORBIDDEN,
            status=403,
            headers={"WWW-Authenticate": bearer_challenge("insufficient_scope", scope=needed)},
        )


def _only_introspection(operation: OperationDefinitionNode) -> bool:
    return all(
        isinstance(selection, FieldNode) and selection.name.value.startswith("__")
        for selection in operation.selection_set.selections
    )


def _status(result: ExecutionResult, media: str) -> int:
    # Variables that do not fit the operation: execution never started.
    started = result.data is not None or not result.errors
    errors = result.errors or []
    if not started and media == GRAPHQL_RESPONSE and all(e.path is None for e in errors):
        return 400
    return 200
