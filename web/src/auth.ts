// OAuth 2 authorization code + PKCE (S256) for a public client, as RFC 9700 and the
// "OAuth 2.0 for Browser-Based Apps" draft describe it:
// - endpoints come from the server's RFC 8414 metadata;
// - the access token lives only in memory (never in storage a script injection could dump);
// - the refresh token is kept in sessionStorage (this tab only) so a reload need not ask for
//   consent again; the server rotates it on every use and revokes the family on replay;
// - one refresh at a time: two concurrent refreshes would replay the rotated token.
import { OAUTH_CLIENT_ID, OAUTH_REDIRECT_URI, OAUTH_SCOPE } from "./config";

interface Metadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint: string;
}

interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  scope?: string;
}

const PENDING_KEY = "taskhub.oauth.pending"; // verifier + state across the redirect
const REFRESH_KEY = "taskhub.oauth.refresh";

export class AuthError extends Error {}

type Listener = () => void;

let metadataPromise: Promise<Metadata> | null = null;
let accessToken: string | null = null;
let refreshPromise: Promise<string> | null = null;
let refreshTimer: number | undefined;
const listeners = new Set<Listener>();

export function onAuthChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  listeners.forEach((listener) => listener());
}

export function isSignedIn(): boolean {
  return accessToken !== null;
}

function metadata(): Promise<Metadata> {
  metadataPromise ??= fetch("/.well-known/oauth-authorization-server").then((response) => {
    if (!response.ok) throw new AuthError(`Could not load the OAuth server metadata (${response.status}).`);
    return response.json() as Promise<Metadata>;
  });
  return metadataPromise;
}

function base64url(bytes: Uint8Array): string {
  let text = "";
  bytes.forEach((byte) => (text += String.fromCharCode(byte)));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(byteCount: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** Sends the browser to the authorization server's login and consent pages. */
export async function login(returnTo: string): Promise<void> {
  if (!OAUTH_CLIENT_ID) {
    throw new AuthError("No OAuth client is configured: run `python manage.py seed_demo`.");
  }
  const { authorization_endpoint } = await metadata();
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(authorization_endpoint, window.location.origin);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: OAUTH_CLIENT_ID,
    redirect_uri: OAUTH_REDIRECT_URI,
    scope: OAUTH_SCOPE,
    state,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  }).toString();
  window.location.assign(url.toString());
}

/** Finishes the redirect back from /o/authorize/; returns where the user was going. */
export async function completeLogin(params: URLSearchParams): Promise<string> {
  const pending = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (params.get("error")) {
    const reason = params.get("error") === "access_denied" ? "You did not allow access." : params.get("error_description") || params.get("error");
    throw new AuthError(`Sign-in was not completed: ${reason}`);
  }
  if (!pending) throw new AuthError("This sign-in link was already used or has expired. Please sign in again.");
  const { verifier, state, returnTo } = JSON.parse(pending) as { verifier: string; state: string; returnTo: string };
  if (params.get("state") !== state) throw new AuthError("Sign-in failed: the state did not match. Please try again.");
  const meta = await metadata();
  // RFC 9207: the authorization response names its issuer; refuse one from anywhere else.
  const issuer = params.get("iss");
  if (issuer && meta.issuer && issuer !== meta.issuer) throw new AuthError("Sign-in failed: unexpected issuer.");
  await tokenRequest({
    grant_type: "authorization_code",
    code: params.get("code") ?? "",
    redirect_uri: OAUTH_REDIRECT_URI,
    code_verifier: verifier,
  });
  return returnTo || "/";
}

async function tokenRequest(form: Record<string, string>): Promise<string> {
  const { token_endpoint } = await metadata();
  const response = await fetch(token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...form, client_id: OAUTH_CLIENT_ID }),
  });
  const body = (await response.json().catch(() => ({}))) as Partial<TokenResponse> & { error?: string; error_description?: string };
  if (!response.ok || !body.access_token) {
    throw new AuthError(`Sign-in failed: ${body.error_description || body.error || `HTTP ${response.status}`}`);
  }
  accessToken = body.access_token;
  if (body.refresh_token) sessionStorage.setItem(REFRESH_KEY, body.refresh_token);
  scheduleRefresh(body.expires_in ?? 3600);
  notify();
  return accessToken;
}

function scheduleRefresh(expiresIn: number): void {
  window.clearTimeout(refreshTimer);
  // Well before expiry, so an open subscription never has to reconnect with a dead token.
  const delay = Math.max(5, expiresIn * 0.8) * 1000;
  refreshTimer = window.setTimeout(() => void refresh().catch(() => undefined), delay);
}

/** A fresh access token from the refresh token; concurrent callers share one request. */
export function refresh(): Promise<string> {
  refreshPromise ??= (async () => {
    const token = sessionStorage.getItem(REFRESH_KEY);
    if (!token) throw new AuthError("Your session has ended. Please sign in again.");
    try {
      return await tokenRequest({ grant_type: "refresh_token", refresh_token: token });
    } catch (error) {
      forget();
      throw new AuthError("Your session has ended. Please sign in again.", { cause: error });
    }
  })().finally(() => {
    refreshPromise = null;
  });
  return refreshPromise;
}

/** The current access token, after restoring one from the refresh token if needed. */
export async function getAccessToken(): Promise<string | null> {
  if (accessToken) return accessToken;
  if (!sessionStorage.getItem(REFRESH_KEY)) return null;
  return refresh().catch(() => null);
}

export function currentAccessToken(): string | null {
  return accessToken;
}

function forget(): void {
  window.clearTimeout(refreshTimer);
  accessToken = null;
  sessionStorage.removeItem(REFRESH_KEY);
  notify();
}

/** Revokes both tokens at the server (RFC 7009), then forgets them (even if that failed). */
export async function logout(): Promise<void> {
  const tokens: [string | null, string][] = [
    [sessionStorage.getItem(REFRESH_KEY), "refresh_token"],
    [accessToken, "access_token"],
  ];
  window.clearTimeout(refreshTimer);
  try {
    const { revocation_endpoint } = await metadata();
    // One after the other: revoking the refresh token also revokes its access token.
    for (const [token, hint] of tokens) {
      if (!token) continue;
      await fetch(revocation_endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token, token_type_hint: hint, client_id: OAUTH_CLIENT_ID }),
      });
    }
  } catch {
    // Offline: the tokens expire on their own; forgetting them here is all that is left to do.
  } finally {
    forget();
  }
}
