// Starts GraphiQL from this server's own files (no CDN). HTTP requests carry the headers from the
// header editor plus the CSRF token (for session logins); subscriptions use graphql-transport-ws
// on the same path, with the editor's Authorization header as the connection_init payload.
(function () {
  "use strict";
  var container = document.getElementById("graphiql");
  var endpoint = container.dataset.endpoint || "/graphql";
  var wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + endpoint;

  function authorizationOf(headers) {
    if (!headers || typeof headers !== "object") return undefined;
    for (var name in headers) {
      if (name.toLowerCase() === "authorization") return headers[name];
    }
    return undefined;
  }

  // GraphiQL hands every operation the header editor's current headers; subscriptions take the
  // Authorization header from there (GraphiQL keeps its stored headers in its own tab state,
  // so reading localStorage would miss them after a reload). A changed header gets a new socket.
  var current = null;

  function fetcherFor(authorization) {
    if (current === null || current.authorization !== authorization) {
      if (current !== null) current.wsClient.dispose();
      var wsClient = graphqlWs.createClient({
        url: wsUrl,
        lazy: true,
        connectionParams: authorization ? { authorization: authorization } : {},
      });
      current = {
        authorization: authorization,
        wsClient: wsClient,
        fetcher: GraphiQL.createFetcher({
          url: endpoint,
          wsClient: wsClient,
          headers: { "X-CSRFToken": container.dataset.csrfToken || "" },
        }),
      };
    }
    return current.fetcher;
  }

  function fetcher(params, options) {
    return fetcherFor(authorizationOf(options && options.headers))(params, options);
  }

  var root = ReactDOM.createRoot(container);
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: "headers",
      defaultQuery:
        "# Logged in? Just run it. Otherwise add a Headers entry:\n" +
        '#   {"Authorization": "Bearer <access token>"}\n' +
        "query Me {\n  viewer { id username displayName }\n}\n",
    })
  );
})();
