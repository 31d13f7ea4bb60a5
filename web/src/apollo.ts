// One Apollo client: queries and mutations over HTTP (POST /graphql with the bearer token),
// subscriptions over graphql-transport-ws (graphql-ws) with the token in connection_init.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { ServerError } from "@apollo/client/errors";
import { SetContextLink } from "@apollo/client/link/context";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import { catchError, from, mergeMap, of, throwError } from "rxjs";

import { getAccessToken, refresh } from "./auth";
import { GRAPHQL_HTTP_URL, GRAPHQL_WS_URL } from "./config";

type ConnectionState = "connecting" | "live" | "offline";
let connectionState: ConnectionState = "connecting";
const connectionListeners = new Set<(state: ConnectionState) => void>();

function setConnectionState(state: ConnectionState): void {
  connectionState = state;
  connectionListeners.forEach((listener) => listener(state));
}

export function watchConnection(listener: (state: ConnectionState) => void): () => void {
  connectionListeners.add(listener);
  listener(connectionState);
  return () => connectionListeners.delete(listener);
}

export const wsClient = createClient({
  url: GRAPHQL_WS_URL,
  // Called on every (re)connect, so a reconnect after a refresh sends the new token.
  connectionParams: async () => {
    const token = await getAccessToken();
    return token ? { authorization: `Bearer ${token}` } : {};
  },
  // Reconnecting is done by useProjectEvents, which resubscribes with `after` = the last event
  // it saw; graphql-ws's own retry would resend the original `after` and replay too little.
  retryAttempts: 0,
  on: {
    connected: () => setConnectionState("live"),
    closed: (event) => {
      setConnectionState("offline");
      // 4401/4403: the token was refused or has expired; the next attempt gets a fresh one.
      const code = (event as CloseEvent | undefined)?.code;
      if (code === 4401 || code === 4403) void refresh().catch(() => undefined);
    },
    connecting: () => setConnectionState("connecting"),
  },
});

const authLink = new SetContextLink(async (prevContext) => {
  const token = await getAccessToken();
  return {
    headers: { ...prevContext.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  };
});

function isUnauthenticated(result: ApolloLink.Result): boolean {
  return (result.errors ?? []).some((error) => error.extensions?.code === "UNAUTHENTICATED");
}

// An access token can expire (or be revoked) between refreshes: refresh once and retry.
// The server may say so as a GraphQL error (HTTP 200) or as HTTP 401.
const retryWithFreshToken = new ApolloLink((operation, forward) => {
  const retry = () => {
    operation.setContext({ retriedAuth: true });
    return from(refresh()).pipe(mergeMap(() => forward(operation)));
  };
  return forward(operation).pipe(
    mergeMap((result) =>
      isUnauthenticated(result) && !operation.getContext().retriedAuth ? retry() : of(result),
    ),
    catchError((error: unknown) => {
      if (ServerError.is(error) && error.statusCode === 401 && !operation.getContext().retriedAuth) {
        return retry();
      }
      return throwError(() => error);
    }),
  );
});

const httpLink = ApolloLink.from([
  retryWithFreshToken,
  authLink,
  new HttpLink({ uri: GRAPHQL_HTTP_URL }),
]);

const link = ApolloLink.split(
  ({ query }) => {
    const definition = getMainDefinition(query);
    return definition.kind === "OperationDefinition" && definition.operation === "subscription";
  },
  new GraphQLWsLink(wsClient),
  httpLink,
);

export const apolloClient = new ApolloClient({
  link,
  cache: new InMemoryCache(),
  defaultOptions: { watchQuery: { fetchPolicy: "cache-and-network" } },
});
