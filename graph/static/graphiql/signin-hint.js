// Shows the #signin-hint banner when the viewer is anonymous: GraphiQL then answers every query
// with UNAUTHENTICATED, and a newcomer needs to know to sign in (the session then authenticates
// GraphiQL's requests) or to paste a bearer token into the Headers pane. Asks the server itself
// (`{ viewer { username } }`, with the session cookie and any Authorization header GraphiQL has
// stored), so the page needs nothing from the view.
(function () {
  "use strict";
  var hint = document.getElementById("signin-hint");
  var container = document.getElementById("graphiql");
  if (!hint || !container) return;
  var endpoint = container.dataset.endpoint || "/graphql";

  function authorizationIn(text) {
    try {
      var headers = JSON.parse(text || "{}");
      for (var name in headers) {
        if (name.toLowerCase() === "authorization") return String(headers[name]);
      }
    } catch (error) {
      // Not JSON yet (the header editor is mid-edit): ask as the session alone.
    }
    return null;
  }

  // GraphiQL moves `graphiql:headers` into its tab state when it mounts (this script runs
  // before it does); after a reload the headers are only there, in the active tab.
  function storedAuthorization() {
    var headers = localStorage.getItem("graphiql:headers");
    if (headers) return authorizationIn(headers);
    try {
      var state = JSON.parse(localStorage.getItem("graphiql:tabState") || "{}");
      var tab = state.tabs && state.tabs[state.activeTabIndex || 0];
      return tab ? authorizationIn(tab.headers) : null;
    } catch (error) {
      return null;
    }
  }

  function isUnauthenticated(body) {
    return Boolean(
      body &&
        body.errors &&
        body.errors.some(function (error) {
          return error.extensions && error.extensions.code === "UNAUTHENTICATED";
        })
    );
  }

  var headers = {
    "Content-Type": "application/json",
    Accept: "application/graphql-response+json, application/json",
    "X-CSRFToken": container.dataset.csrfToken || "",
  };
  var authorization = storedAuthorization();
  if (authorization) headers.Authorization = authorization;

  fetch(endpoint, {
    method: "POST",
    credentials: "same-origin",
    headers: headers,
    body: JSON.stringify({ query: "query SignedIn { viewer { username } }" }),
  })
    .then(function (response) {
      return response.json();
    })
    .then(function (body) {
      hint.hidden = !isUnauthenticated(body);
    })
    .catch(function () {
      hint.hidden = true; // the server is unreachable: GraphiQL's own errors will say so
    });

  hint.querySelector("button").addEventListener("click", function () {
    hint.hidden = true;
  });
})();
