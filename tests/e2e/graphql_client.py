"""A real GraphQL client (`gql` over requests) against the live server."""

from __future__ import annotations

from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport


def client_for(server: Any, token: str | None, **headers: str) -> Client:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    transport = RequestsHTTPTransport(url=f"{server.url}/graphql", headers=headers, timeout=20)
    return Client(transport=transport, fetch_schema_from_transport=False)


def run(client: Client, query: str, **variables: Any) -> dict[str, Any]:
    return client.execute(GraphQLRequest(query, variable_values=variables))  # type: ignore[return-value]


def run_error(client: Client, query: str, **variables: Any) -> TransportQueryError:
    """Runs a query expected to fail; returns the error (with `.errors` and `.data`)."""
    try:
        client.execute(GraphQLRequest(query, variable_values=variables))
    except TransportQueryError as error:
        return error
    raise AssertionError("expected GraphQL errors")


def codes(error: TransportQueryError) -> list[str]:
    return [item.get("extensions", {}).get("code") for item in error.errors or []]
