import { ApolloProvider, useQuery } from "@apollo/client/react";
import { useEffect, useState } from "react";

import { apolloClient, watchConnection } from "../apollo";
import { completeLogin, getAccessToken, login, logout, onAuthChange } from "../auth";
import { VIEWER, type User } from "../operations";
import { followLink, href, navigate, usePath } from "../router";
import { Board } from "./Board";
import { Projects } from "./Projects";

type AuthState = "checking" | "signed-in" | "signed-out";

export function App() {
  const path = usePath();
  const [auth, setAuth] = useState<AuthState>("checking");
  const [authError, setAuthError] = useState<string | null>(null);

  useEffect(() => {
    let active = true;
    const settle = (signedIn: boolean) => active && setAuth(signedIn ? "signed-in" : "signed-out");
    if (path === "/callback") {
      completeLogin(new URLSearchParams(window.location.search))
        .then((returnTo) => {
          settle(true);
          navigate(returnTo, { replace: true });
        })
        .catch((error: Error) => {
          setAuthError(error.message);
          settle(false);
          navigate("/", { replace: true });
        });
    } else {
      void getAccessToken().then((token) => settle(token !== null));
    }
    const stop = onAuthChange(() => void getAccessToken().then((token) => settle(token !== null)));
    return () => {
      active = false;
      stop();
    };
    // Only on first load: later navigation happens inside the signed-in app.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  if (auth === "checking") return <p className="centered" aria-busy="true">Loading…</p>;
  if (auth === "signed-out") return <SignIn error={authError} returnTo={path === "/callback" ? "/" : path} />;
  return (
    <ApolloProvider client={apolloClient}>
      <Shell path={path} />
    </ApolloProvider>
  );
}

function SignIn({ error, returnTo }: { error: string | null; returnTo: string }) {
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const start = () => {
    setBusy(true);
    login(returnTo).catch((reason: Error) => {
      setFailure(reason.message);
      setBusy(false);
    });
  };
  return (
    <main className="centered sign-in">
      <h1>TaskHub</h1>
      <p>Sign in to see your projects and boards.</p>
      {(failure || error) && (
        <p className="error" role="alert">
          {failure || error}
        </p>
      )}
      <button type="button" className="primary" onClick={start} disabled={busy}>
        {busy ? "Redirecting…" : "Sign in"}
      </button>
    </main>
  );
}

function Shell({ path }: { path: string }) {
  const { data } = useQuery<{ viewer: User }>(VIEWER);
  const [connection, setConnection] = useState("connecting");
  useEffect(() => watchConnection(setConnection), []);
  const board = /^\/projects\/([^/]+)(?:\/tasks\/([^/]+))?\/?$/.exec(path);

  const [signingOut, setSigningOut] = useState(false);
  const signOut = async () => {
    setSigningOut(true);
    await logout();
    await apolloClient.clearStore();
    navigate("/", { replace: true });
  };

  return (
    <>
      <header className="topbar">
        <a className="brand" href={href("/")} onClick={(event) => followLink(event, "/")}>
          TaskHub
        </a>
        <span className={`connection ${connection}`} role="status" aria-live="polite">
          {connection === "live" ? "Live" : connection === "offline" ? "Reconnecting…" : "Connecting…"}
        </span>
        <span className="spacer" />
        {data && <span className="who">{data.viewer.displayName}</span>}
        <button type="button" onClick={() => void signOut()} disabled={signingOut}>
          {signingOut ? "Signing out…" : "Sign out"}
        </button>
      </header>
      <main>
        {board ? (
          <Board projectId={decodeURIComponent(board[1])} openTaskId={board[2] ? decodeURIComponent(board[2]) : null} />
        ) : (
          <Projects />
        )}
      </main>
    </>
  );
}
