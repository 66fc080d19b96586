// Live traces: the traceUpdates subscription, batched (a burst of hundreds of events per
// second becomes a few renders), de-duplicated by trace id (the last state wins), and
// started again after an error (e.g. SUBSCRIBER_LAGGED), telling the view to re-query
// since events were lost.
import { useEffect, useRef, useState } from "react";
import { useClient } from "urql";
import type { TraceRowFragment } from "../../gql/graphql";
import type { TraceFilterInput } from "../../lib/filters";
import { useBatched } from "../../lib/useBatched";
import { TraceUpdatesSubscription } from "./queries";

export interface TraceUpdatesOptions {
  /** Called after the subscription had to start again: events may have been missed. */
  onResync?: () => void;
  /** Nothing is subscribed while true. */
  paused?: boolean;
  /** At most one batch per this many ms (default 250). */
  intervalMs?: number;
}

export function useTraceUpdates(
  projectId: string | null | undefined,
  filter: TraceFilterInput | null,
  onTraces: (traces: TraceRowFragment[]) => void,
  { onResync, paused = false, intervalMs = 250 }: TraceUpdatesOptions = {},
): void {
  const client = useClient();
  const push = useBatched<TraceRowFragment>((items) => {
    const latest = new Map<string, TraceRowFragment>();
    for (const trace of items) latest.set(trace.traceId, trace);
    onTraces([...latest.values()]);
  }, intervalMs);
  const resync = useRef(onResync);
  resync.current = onResync;
  const [generation, setGeneration] = useState(0);
  const failures = useRef(0);
  const filterKey = JSON.stringify(filter);

  useEffect(() => {
    if (!projectId || paused) return;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const variables = { projectId, filter: JSON.parse(filterKey) as TraceFilterInput | null };
    const subscription = client
      .subscription(TraceUpdatesSubscription, variables)
      .subscribe((result) => {
        if (result.data) {
          failures.current = 0;
          push(result.data.traceUpdates);
        }
        if (result.error && retry === undefined) {
          // The subscription has ended: start again after a pause that grows (1 s to 15 s).
          const wait = Math.min(15_000, 1000 * 2 ** failures.current);
          failures.current += 1;
          retry = setTimeout(() => {
            setGeneration((g) => g + 1);
            resync.current?.();
          }, wait);
        }
      });
    return () => {
      clearTimeout(retry);
      subscription.unsubscribe();
    };
  }, [client, projectId, filterKey, paused, generation, push]);
}
