// The open trace: its header and every span in outline from one query, then its spans
// live from the traceSpans subscription, merged by span id. Live spans are merged once
// per animation frame, so 1,000 spans a second cost ~60 renders a second, not 1,000.
import { useEffect, useMemo, useRef, useState } from "react";
import { useClient, useQuery } from "urql";
import type { TraceOutlineQuery as TraceOutlineResult } from "../../gql/graphql";
import { buildTree, type SpanTree } from "../../lib/tree";
import { TraceOutlineQuery, TraceSpansSubscription } from "./queries";
import { SpanStore, spansFromOutline, totalsOf, type OutlineSpan, type RawSpan, type TraceTotals } from "./spans";

export type TraceHeader = NonNullable<NonNullable<TraceOutlineResult["project"]>["trace"]>;

/** Subscribing (before the outline is in), subscribed, starting again after an error, or given up. */
export type LiveState = "connecting" | "live" | "retrying" | "stopped";

export interface TraceData {
  header: TraceHeader | null;
  tree: SpanTree<OutlineSpan>;
  totals: TraceTotals;
  /** The query has answered (the trace may still be missing). */
  loaded: boolean;
  error: string | null;
  live: LiveState;
}

const RETRY_MS = 2000;
/** Errors that another try would only repeat. */
const FINAL_ERRORS = new Set(["FORBIDDEN", "UNAUTHENTICATED", "NOT_FOUND", "INVALID_ARGUMENT"]);

export function useTraceData(projectId: string, traceId: string): TraceData {
  const client = useClient();
  const variables = useMemo(() => ({ projectId, traceId }), [projectId, traceId]);
  // cache-first: the subscription sends every stored span again, so a cached outline is
  // brought up to date without fetching the whole trace twice.
  const [result] = useQuery({ query: TraceOutlineQuery, variables, requestPolicy: "cache-first" });
  const store = useRef<SpanStore>(new SpanStore());
  const [version, setVersion] = useState(0);
  const [live, setLive] = useState<LiveState>("connecting");
  const header = result.data?.project?.trace ?? null;
  const loaded = result.data !== undefined || result.error !== undefined;

  const outline = header?.spanOutline;
  const mergedOutline = useRef<unknown>(undefined);

  // Subscribe once the outline is drawn: the stored spans it sends first would
  // otherwise compete with the query for the server and the wire.
  useEffect(() => {
    if (!loaded) return;
    let pending: RawSpan[] = [];
    let frame = 0;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let subscription: { unsubscribe(): void } | null = null;
    let stopped = false;

    const flush = () => {
      frame = 0;
      const batch = pending;
      pending = [];
      if (store.current.merge(batch)) setVersion((v) => v + 1);
    };
    const start = () => {
      let failed = false;
      const current = client
        .subscription(TraceSpansSubscription, { traceId, projectId })
        .subscribe((event) => {
          if (stopped || failed) return;
          const span = event.data?.traceSpans;
          if (span) {
            pending.push(span);
            if (frame === 0) frame = requestAnimationFrame(flush);
          }
          if (event.error) {
            failed = true;
            subscription?.unsubscribe();
            subscription = null;
            clearTimeout(retry);
            const code = event.error.graphQLErrors[0]?.extensions?.code;
            if (typeof code === "string" && FINAL_ERRORS.has(code)) {
              setLive("stopped");
              return;
            }
            // e.g. SUBSCRIBER_LAGGED or a lost connection: start again; the stored spans
            // come first, so nothing missed in between is lost.
            setLive("retrying");
            retry = setTimeout(() => !stopped && start(), RETRY_MS);
          }
        });
      if (failed) current.unsubscribe();
      else {
        subscription = current;
        setLive("live");
      }
    };
    start();
    return () => {
      stopped = true;
      subscription?.unsubscribe();
      cancelAnimationFrame(frame);
      clearTimeout(retry);
    };
  }, [loaded, client, traceId, projectId]);

  const tree = useMemo(
    () => {
      // The outline is merged here, not in an effect, so its first render already has
      // the tree (no empty frame). Merging is idempotent: a second render changes nothing.
      if (outline !== undefined && outline !== mergedOutline.current) {
        store.current.merge(spansFromOutline(outline));
        mergedOutline.current = outline;
      }
      return buildTree(store.current.spans.values());
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [version, outline],
  );
  const totals = useMemo(() => totalsOf(tree.order), [tree]);
  return {
    header,
    tree,
    totals,
    loaded,
    error: result.error ? result.error.message : null,
    live,
  };
}
