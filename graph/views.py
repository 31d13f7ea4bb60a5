"""`/graphql` over HTTP (GraphQL-over-HTTP spec), and GraphiQL for browsers."""

from __future__ import annotations

import re
from typing import Any

import orjson
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
)

from project.auth import (
    READ_SCOPE,
    WRITE_SCOPE,
    AuthOutcome,
    authenticate_http_request,
    bearer_challenge,
)
from realtime.auth import origin_allowed
from tasks import idempotency
from tasks.api.throttles import throttle_wait

from . import csrf, multipart, persisted
from .errors import (
    BAD_USER_INPUT,
    FORBIDDEN,
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    INTERNAL_SERVER_ERROR,
    RATE_LIMITED,
    UNAUTHENTICATED,
    format_error,
)
from .execution import FastExecutionContext, parse_cached, validate_cached
from .http import (
    GRAPHQL_RESPONSE,
    RequestError,
    negotiate,
    read_params,
    request_id,
    respond,
    wants_html,
)
from .mutations.webhook import redact_shown_secrets
from .schema import schema
from .validation import introspection_allowed

MAX_TOKENS = 15_000
_SUGGESTION = re.compile(r" ?Did you mean .*\?$")
IDEMPOTENCY_SCOPE = "graphql"


@csrf_exempt
def graphql_view(request: HttpRequest) -> HttpResponse:
    rid = request_id(request)
    if request.method == "GET" and wants_html(request):
        response = graphiql(request)
    else:
        response = _graphql(request, rid)
    response["X-Request-ID"] = rid
    return response


@ensure_csrf_cookie
def graphiql(request: HttpRequest) -> HttpResponse:
    return render(request, "graph/graphiql.html", {"endpoint": request.path})


def _graphql(request: HttpRequest, rid: str) -> HttpResponse:
    media = negotiate(request.META.get("HTTP_ACCEPT", ""))
    if media is None:
        return HttpResponse(
            "Acceptable: application/graphql-response+json, application/json", status=406
        )
    if request.method not in ("GET", "POST"):
        return _request_error(
            RequestError("Use GET or POST.", status=405, headers={"Allow": "GET, POST"}), media
        )
    if not origin_allowed(request.META.get("HTTP_ORIGIN")):
        # API.md's Origin rule, as on the WebSocket: a page of a foreign site is refused
        # whatever credentials it carries; clients sending no Origin are not browsers.
        message = "Requests from this Origin are refused: it is not an allowed host or CORS origin."
        return _request_error(RequestError(message, code=FORBIDDEN, status=403), media)
    try:
        return _run(request, rid, media)
    except RequestError as error:
        return _request_error(error, media)


def _request_error(error: RequestError, media: str) -> HttpResponse:
    body = {"errors": [format_error(error.error, None)]}
    return respond(body, status=error.status, media=media, headers=error.headers)


def _document_errors(errors: list[GraphQLError], media: str, code: str, rid: str) -> HttpResponse:
    hide = not introspection_allowed()
    formatted = []
    for error in errors:
        item = format_error(error, rid, code)
        if hide:
            item["message"] = _SUGGESTION.sub("", item["message"])
        formatted.append(item)
    return respond(
        {"errors": formatted}, status=400 if media == GRAPHQL_RESPONSE else 200, media=media
    )


def _run(request: HttpRequest, rid: str, media: str) -> HttpResponse:
    if multipart.is_multipart(request):
        _parse_multipart(request)  # before the CSRF check reads request.POST
    outcome = csrf.with_preflight(request, authenticate_http_request(request))
    if outcome.failure == "query_token":
        raise RequestError(
            outcome.message,
            code=UNAUTHENTICATED,
            status=400,
            headers={"WWW-Authenticate": outcome.challenge()},
        )
    params = read_params(request)
    try:
        query, remember_digest = persisted.resolve_query(params.query, params.extensions)
    except persisted.PersistedQueryError as error:
        body = {"errors": [format_error(error.error, rid)]}
        return respond(body, status=error.status, media=media)
    if not isinstance(query, str) or not query.strip():
        raise RequestError("Send a `query`.")

    try:
        document = parse_cached(query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        return _document_errors([error], media, GRAPHQL_PARSE_FAILED, rid)
    operation = get_operation_ast(document, params.operation_name)
    if operation is None:
        raise RequestError("Name the operation to run (`operationName`), or send exactly one.")
    is_mutation = operation.operation == OperationType.MUTATION
    if operation.operation == OperationType.SUBSCRIPTION:
        raise RequestError("Subscriptions run over WebSocket (graphql-transport-ws).")
    if is_mutation and request.method == "GET":
        raise RequestError("Mutations need POST.", status=405, headers={"Allow": "POST"})
    if params.multipart and not is_mutation:
        raise RequestError("Multipart requests (file uploads) are for mutations only.")

    request.user = outcome.user or AnonymousUser()
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
    _authorize(outcome, operation, is_mutation)

    errors = validate_cached(
        schema.graphql_schema, query, document, params.variables, max_errors=50
    )
    if errors:
        return _document_errors(errors, media, GRAPHQL_VALIDATION_FAILED, rid)
    if remember_digest is not None:
        persisted.remember(remember_digest, query)

    key = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if is_mutation and key is not None and outcome.user is not None:
        return _idempotent(request, rid, media, document, params, query, key, outcome.user)
    return _execute(request, rid, media, document, params)


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
    selections = operation.selection_set.selections
    return all(
        isinstance(selection, FieldNode) and selection.name.value.startswith("__")
        for selection in selections
    )


def _execute(
    request: HttpRequest, rid: str, media: str, document: DocumentNode, params: Any
) -> HttpResponse:
    result = execute(
        schema.graphql_schema,
        document,
        context_value=request,
        variable_values=params.variables,
        operation_name=params.operation_name,
        execution_context_class=FastExecutionContext,
    )
    assert isinstance(result, ExecutionResult)  # resolvers are synchronous over HTTP
    return respond(_body(result, rid), status=_status(result, media), media=media)


def _body(result: ExecutionResult, rid: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if result.errors:
        hide = not introspection_allowed()
        errors = []
        for error in result.errors:
            default = INTERNAL_SERVER_ERROR if error.path else BAD_USER_INPUT
            item = format_error(error, rid, default)
            if hide:
                item["message"] = _SUGGESTION.sub("", item["message"])
            errors.append(item)
        body["errors"] = errors
    body["data"] = result.data
    return body


def _status(result: ExecutionResult, media: str) -> int:
    # Variables that do not fit the operation: execution never started.
    started = result.data is not None or not result.errors
    if not started and media == GRAPHQL_RESPONSE and all(e.path is None for e in result.errors):
        return 400
    return 200


def _idempotent(
    request: HttpRequest,
    rid: str,
    media: str,
    document: DocumentNode,
    params: Any,
    query: str,
    key: str,
    user: Any,
) -> HttpResponse:
    if not idempotency.valid_key(key):
        raise RequestError("The Idempotency-Key header is invalid.")
    request_fingerprint = idempotency.fingerprint(
        query,
        orjson.dumps(
            params.variables, option=orjson.OPT_SORT_KEYS, default=multipart.upload_fingerprint
        ),
        params.operation_name or "",
    )
    claim = {"scope": IDEMPOTENCY_SCOPE, "user_key": str(user.pk), "key": key}
    begun = idempotency.begin(**claim, request_fingerprint=request_fingerprint)
    if begun.outcome == "mismatch":
        raise RequestError("This Idempotency-Key was used with a different request.", status=422)
    if begun.outcome == "in_flight":
        raise RequestError("A request with this Idempotency-Key is still running.", status=409)
    if begun.outcome == "replay" and begun.response is not None:
        stored = begun.response
        return respond(
            stored["body"],
            status=stored["status"],
            media=media,
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        response = _execute(request, rid, media, document, params)
    except BaseException:
        idempotency.abandon(**claim)
        raise
    idempotency.complete(
        **claim,
        request_fingerprint=request_fingerprint,
        response={
            "status": response.status_code,
            "body": redact_shown_secrets(request, orjson.loads(response.content)),
        },
    )
    return response
