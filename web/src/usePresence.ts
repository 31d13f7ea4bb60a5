// Who else is here: subscribe to `projectPresence` with where this tab is (the open task, and
// whether its edit form is in use). Subscribing is what makes this tab present, so a change of
// task or editing resubscribes; the server throttles the lists it sends. After a drop it
// resubscribes with a backoff, like useProjectEvents.
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useEffect, useState } from "react";

import { apolloClient } from "./apollo";
import { PROJECT_PRESENCE, type PresenceItem } from "./operations";

export function usePresence(projectId: string, taskId: string | null, editing: boolean): PresenceItem[] {
  const [viewers, setViewers] = useState<PresenceItem[]>([]);

  useEffect(() => {
    let stopped = false;
    let attempt = 0;
    let retryTimer: number | undefined;
    let subscription: { unsubscribe(): void } | null = null;

    const subscribe = () => {
      let done = false;
      const retry = (reason?: unknown) => {
        if (done || stopped) return;
        done = true;
        subscription?.unsubscribe();
        const notFound =
          CombinedGraphQLErrors.is(reason) && reason.errors.some((e) => e.extensions?.code === "NOT_FOUND");
        if (notFound) return setViewers([]); // no longer a member: the board says so already
        attempt += 1;
        retryTimer = window.setTimeout(subscribe, Math.min(10_000, 250 * 2 ** attempt));
      };
      subscription = apolloClient
        .subscribe<{ projectPresence: PresenceItem[] }>({
          query: PROJECT_PRESENCE,
          variables: { projectId, taskId, editing: editing && taskId !== null },
          fetchPolicy: "no-cache",
        })
        .subscribe({
          next: (result) => {
            if (result.error) return retry(result.error);
            attempt = 0;
            if (result.data) setViewers(result.data.projectPresence);
          },
          error: retry,
          complete: () => retry(),
        });
    };

    subscribe();
    return () => {
      stopped = true;
      window.clearTimeout(retryTimer);
      subscription?.unsubscribe();
    };
  }, [projectId, taskId, editing]);

  return viewers;
}

export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : name.slice(0, 2);
  return letters.toUpperCase();
}
