// Live project events with gap-free resumption: walk the activity log to its end (the feed's
// history and the cursor), subscribe to `projectEvents(after: <last seen id>)`, and after any
// drop resubscribe with the id of the last event actually received, so the server replays
// whatever happened while the connection was down. A resume the server cannot complete (events
// pruned, too many missed: an error coded with the reason) starts over from the activity log.
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useEffect, useRef, useState } from "react";

import { apolloClient } from "./apollo";
import { describeError } from "./errors";
import { ACTIVITY, PROJECT_EVENTS, type ProjectEvent } from "./operations";

const FEED_LENGTH = 200;
// Error codes of a resume whose replay cannot be complete: re-read state instead of retrying.
const RESYNC = ["CURSOR_TOO_OLD", "CURSOR_UNKNOWN", "TOO_MANY_MISSED"];

interface ActivityData {
  activity: {
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: ProjectEvent }[];
  };
}

export function useProjectEvents(projectId: string, onEvent: (event: ProjectEvent) => void) {
  const [events, setEvents] = useState<ProjectEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;

  useEffect(() => {
    let stopped = false;
    let lastId: string | null = "0";
    let attempt = 0;
    let retryTimer: number | undefined;
    let subscription: { unsubscribe(): void } | null = null;

    const receive = (event: ProjectEvent) => {
      if (lastId !== null && Number(event.id) <= Number(lastId)) return; // replayed twice around a reconnect
      lastId = event.id;
      setEvents((previous) => [event, ...previous].slice(0, FEED_LENGTH));
      onEventRef.current(event);
    };

    const subscribe = () => {
      let done = false;
      const retry = (reason: unknown) => {
        if (done || stopped) return;
        done = true;
        subscription?.unsubscribe();
        const notFound =
          CombinedGraphQLErrors.is(reason) && reason.errors.some((e) => e.extensions?.code === "NOT_FOUND");
        if (notFound) {
          setError("You no longer have access to this project.");
          return;
        }
        const resync =
          CombinedGraphQLErrors.is(reason) &&
          reason.errors.some((e) => RESYNC.includes(String(e.extensions?.code)));
        if (resync) {
          void start(true);
          return;
        }
        attempt += 1;
        retryTimer = window.setTimeout(subscribe, Math.min(10_000, 250 * 2 ** attempt));
      };
      subscription = apolloClient
        .subscribe<{ projectEvents: ProjectEvent }>({
          query: PROJECT_EVENTS,
          variables: { projectId, after: lastId },
        })
        .subscribe({
          next: (result) => {
            if (result.error) return retry(result.error);
            attempt = 0;
            setError(null);
            if (result.data) receive(result.data.projectEvents);
          },
          error: retry,
          complete: () => retry(null),
        });
    };

    // `resyncing`: the log no longer reaches back to the cursor; if it holds nothing at all now,
    // subscribe from where it stands (no cursor) rather than from its start.
    const start = async (resyncing = false) => {
      const history: ProjectEvent[] = [];
      let after: string | null = null;
      try {
        for (;;) {
          const page: { data?: ActivityData } = await apolloClient.query<ActivityData>({
            query: ACTIVITY,
            variables: { projectId, after },
            fetchPolicy: "network-only",
          });
          const activity: ActivityData["activity"] | undefined = page.data?.activity;
          if (!activity) break;
          history.push(...activity.edges.map((edge) => edge.node));
          if (history.length > FEED_LENGTH) history.splice(0, history.length - FEED_LENGTH);
          if (!activity.pageInfo.hasNextPage || !activity.pageInfo.endCursor) break;
          after = activity.pageInfo.endCursor;
        }
      } catch (failure) {
        if (!stopped) setError(describeError(failure));
        return;
      }
      if (stopped) return;
      if (history.length) lastId = history[history.length - 1].id;
      else if (resyncing) lastId = null;
      setEvents(history.reverse());
      subscribe();
    };

    void start();
    return () => {
      stopped = true;
      window.clearTimeout(retryTimer);
      subscription?.unsubscribe();
    };
  }, [projectId]);

  return { events, error };
}
