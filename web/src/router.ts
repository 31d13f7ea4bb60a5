// The app has four screens; a few lines of History API routing do (paths below APP_BASE).
import { useEffect, useState } from "react";

import { APP_BASE } from "./config";

function currentPath(): string {
  const path = window.location.pathname;
  const relative = path.startsWith(APP_BASE) ? path.slice(APP_BASE.length) : path;
  return relative || "/";
}

export function navigate(to: string, { replace = false } = {}): void {
  const url = `${APP_BASE}${to}`;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  return path;
}

export function href(to: string): string {
  return `${APP_BASE}${to}`;
}

/** Follows a link inside the app without a page load (plain clicks only). */
export function followLink(event: React.MouseEvent<HTMLAnchorElement>, to: string): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(to);
}
