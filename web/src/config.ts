// Where the app lives and which OAuth client it is. Django's /app/ view writes the client id into
// a <meta> tag; under `npm run dev` (no Django page) VITE_OAUTH_CLIENT_ID provides it.

/** Path prefix of the app's own routes: /app on Django, / under the Vite dev server. */
export const APP_BASE = import.meta.env.DEV ? "" : "/app";

function meta(name: string): string {
  const element = document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`);
  return element?.content.trim() ?? "";
}

export const OAUTH_CLIENT_ID: string =
  meta("taskhub-oauth-client-id") || (import.meta.env.VITE_OAUTH_CLIENT_ID as string) || "";

/** Must equal one of the client's registered redirect URIs exactly. */
export const OAUTH_REDIRECT_URI = `${window.location.origin}${APP_BASE}/callback`;

export const OAUTH_SCOPE = "read write";

export const GRAPHQL_HTTP_URL = "/graphql";
export const GRAPHQL_WS_URL = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/graphql`;
