// Starts GraphiQL from this server's own files (no CDN). HTTP requests carry the headers from the
// header editor plus the CSRF token (for session logins); subscriptions use graphql-transport-ws
// on the same path, with the editor's Authorization header as the connection_init payload.
(function () {
  "use strict";
  var container = document.getElementById("graphiql");
  var endpoint = container.dataset.endpoint || "/graphql";
  var wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + endpoint;

  function editorHeaders() {
    try {
      var stored = localStorage.getItem("graphiql:headers");
      var parsed = stored ? JSON.parse(stored) : {};
      return parsed && typeof parsed === "object" ? parsed : {};
    } catch (error) {
      return {};
    }
  }

  function authorization() {
    var headers = editorHeaders();
    for (var name in headers) {
      if (name.toLowerCase() === "authorization") return headers[name];
    }
    return undefined;
  }

  var wsClient = graphqlWs.createClient({
    url: wsUrl,
    lazy: true,
    connectionParams: function () {
      var value = authorization();
      return value ? { authorization: value } : {};
    },
  });

  var fetcher = GraphiQL.createFetcher({
    url: endpoint,
    wsClient: wsClient,
    headers: { "X-CSRFToken": container.dataset.csrfToken || "" },
  });

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
