// /: the project at a glance. "Last hour": traces, error rate, p95 latency, tokens and cost
// from the analytics API, read again when new traces arrive (at most every 2 s) and every
// 30 s as the hour moves on. "Live traces": the newest traces as they arrive.
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { Link } from "react-router-dom";
import { useClient } from "urql";
import { FirstTrace, NoProject } from "../components/traces/FirstTrace";
import { TraceStatus } from "../components/traces/TraceTable";
import { useTraceUpdates } from "../components/traces/useTraceUpdates";
import { useProject } from "../components/ProjectContext";
import { graphql } from "../gql";
import type { OverviewQuery, TraceRowFragment } from "../gql/graphql";
import { formatCost, formatDuration, formatNumber, formatPercent, formatTime } from "../lib/format";
import { useThrottled } from "../lib/useBatched";
import "./Overview.css";

const Overview = graphql(`
  query Overview($projectId: ID!, $start: DateTime!, $end: DateTime!, $withFeed: Boolean!) {
    project(id: $projectId) {
      id
      traceCount
      analytics(timeRange: { start: $start, end: $end }, bucket: MINUTE) {
        totals {
          traceCount
          errorTraceCount
          traceErrorRate
          traceLatencyP95Ms
          totalTokens
          cost
        }
        buckets {
          start
          traceCount
          errorTraceCount
        }
      }
      traces(first: 20) @include(if: $withFeed) {
        nodes {
          ...TraceRow
        }
      }
    }
  }
`);

type Analytics = NonNullable<OverviewQuery["project"]>["analytics"];

/** Traces kept in the live feed. */
const FEED_SIZE = 50;
const REFRESH_MIN_MS = 2000;
const ROLL_MS = 30_000;
const HOUR_MS = 60 * 60_000;

function compact(value: number): string {
  if (value < 10_000) return formatNumber(value);
  return new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 }).format(value);
}

/** Traces per minute over the hour as bars, errors in red: a picture, hidden from readers. */
function Sparkline({ buckets }: { buckets: Analytics["buckets"] }) {
  const max = Math.max(1, ...buckets.map((b) => b.traceCount));
  const width = 100 / Math.max(1, buckets.length);
  return (
    <svg className="spark" viewBox="0 0 100 24" preserveAspectRatio="none" aria-hidden="true">
      {buckets.map((b, i) => {
        const h = (b.traceCount / max) * 24;
        const e = (b.errorTraceCount / max) * 24;
        return (
          <g key={b.start}>
            <rect className="bar" x={i * width + width * 0.1} width={width * 0.8} y={24 - h} height={h} />
            {e > 0 && <rect className="err" x={i * width + width * 0.1} width={width * 0.8} y={24 - e} height={e} />}
          </g>
        );
      })}
    </svg>
  );
}

function Figure({ label, value, note, children }: { label: string; value: string; note?: string; children?: ReactNode }) {
  return (
    <figure className="kpi">
      <figcaption>{label}</figcaption>
      <p className="value">{value}</p>
      {note && <p className="note">{note}</p>}
      {children}
    </figure>
  );
}

function LastHour({ analytics, loading }: { analytics: Analytics | null; loading: boolean }) {
  const t = analytics?.totals;
  const dash = loading ? "…" : "–";
  return (
    <section className="card last-hour" aria-label="Last hour">
      <h2>Last hour</h2>
      <div className="kpis">
        <Figure label="Traces" value={t ? formatNumber(t.traceCount) : dash}>
          {analytics && <Sparkline buckets={analytics.buckets} />}
        </Figure>
        <Figure
          label="Error rate"
          value={t ? (t.traceErrorRate === null || t.traceErrorRate === undefined ? "–" : formatPercent(t.traceErrorRate)) : dash}
          note={t ? `${formatNumber(t.errorTraceCount)} failed` : undefined}
        />
        <Figure
          label="p95 latency"
          value={t ? (t.traceLatencyP95Ms === null || t.traceLatencyP95Ms === undefined ? "–" : formatDuration(t.traceLatencyP95Ms)) : dash}
          note="finished traces"
        />
        <Figure label="Tokens" value={t ? compact(t.totalTokens) : dash} />
        <Figure label="Cost" value={t ? formatCost(t.cost) || "$0" : dash} />
      </div>
    </section>
  );
}

function LiveFeed({ traces, loading }: { traces: TraceRowFragment[]; loading: boolean }) {
  return (
    <section className="card live-feed" aria-label="Live traces">
      <div className="live-head">
        <h2>Live traces</h2>
        <span className="live-badge">
          <span className="pulse" aria-hidden="true" /> live
        </span>
        <span className="spacer" />
        <Link to="/traces">All traces →</Link>
      </div>
      {traces.length === 0 ? (
        <p className="feed-empty">{loading ? "Loading…" : "Waiting for traces… they appear here as they arrive."}</p>
      ) : (
        <ol className="feed">
          {traces.map((trace) => (
            <li key={trace.traceId}>
              <TraceStatus trace={trace} />
              <Link className="feed-name" to={`/traces/${trace.traceId}`}>
                {trace.name}
              </Link>
              <span className="feed-meta">
                <span className="feed-user" title={trace.userId ? "User" : undefined}>{trace.userId ?? ""}</span>
                <span>{formatNumber(trace.spanCount)} spans</span>
                <span>{trace.totalTokens > 0 ? `${compact(trace.totalTokens)} tok` : ""}</span>
                <span>{trace.cost > 0 ? formatCost(trace.cost) : ""}</span>
                <span>{formatDuration(trace.durationMs)}</span>
                <time dateTime={trace.startTime}>{formatTime(trace.startTime)}</time>
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function OverviewPage() {
  const { project } = useProject();
  const projectId = project?.id ?? null;
  const client = useClient();
  const [analytics, setAnalytics] = useState<Analytics | null>(null);
  const [traceCount, setTraceCount] = useState<number | null>(null);
  const [feed, setFeed] = useState<TraceRowFragment[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  // Each read has a number: only the latest read's analytics are shown, and only the latest
  // read with the feed fills it (a read for another project, or after leaving, never does).
  const latest = useRef(0);
  const latestFeed = useRef(0);
  const feedLoaded = useRef(false);
  /** Live traces that came before the first read: merged into its feed. */
  const early = useRef<TraceRowFragment[]>([]);

  const read = useCallback(
    (withFeed: boolean) => {
      if (!projectId) return;
      const id = ++latest.current;
      if (withFeed) latestFeed.current = id;
      const end = new Date();
      const start = new Date(end.getTime() - HOUR_MS);
      void client
        .query(
          Overview,
          { projectId, start: start.toISOString(), end: end.toISOString(), withFeed },
          { requestPolicy: "network-only" },
        )
        .toPromise()
        .then((result) => {
          const current = id === latest.current;
          const feedCurrent = withFeed && id === latestFeed.current;
          if (!current && !feedCurrent) return;
          setLoading(false);
          if (result.error || !result.data?.project) {
            setError(result.error?.message.replace(/^\[\w+\]\s*/, "") ?? "This project cannot be read.");
            return;
          }
          setError(null);
          const data = result.data.project;
          if (current) setAnalytics(data.analytics);
          setTraceCount(data.traceCount);
          if (feedCurrent && data.traces) {
            const stored = data.traces.nodes;
            const seen = new Set(early.current.map((t) => t.traceId));
            setFeed([...early.current, ...stored.filter((t) => !seen.has(t.traceId))].slice(0, FEED_SIZE));
            early.current = [];
            feedLoaded.current = true;
          }
        });
    },
    [client, projectId],
  );

  useEffect(() => {
    feedLoaded.current = false;
    early.current = [];
    setFeed([]);
    setAnalytics(null);
    setLoading(true);
    read(true);
    const roll = setInterval(() => read(false), ROLL_MS);
    return () => {
      clearInterval(roll);
      latest.current += 1; // answers still on their way are for a view that is gone
      latestFeed.current = -1;
    };
  }, [read]);

  const refresh = useThrottled(() => read(false), REFRESH_MIN_MS);

  const onTraces = useCallback(
    (batch: TraceRowFragment[]) => {
      refresh();
      setTraceCount((n) => (n === 0 ? batch.length : n));
      if (!feedLoaded.current) {
        const ids = new Set(batch.map((t) => t.traceId));
        early.current = [...batch, ...early.current.filter((t) => !ids.has(t.traceId))];
        return;
      }
      setFeed((current) => {
        const updates = new Map(batch.map((t) => [t.traceId, t]));
        // Shown ones change in place; the others are new, newest first, on top.
        const kept = current.map((t) => {
          const update = updates.get(t.traceId);
          if (update) updates.delete(t.traceId);
          return update ?? t;
        });
        const added = [...updates.values()].sort((a, b) => (a.startTime < b.startTime ? 1 : -1));
        return [...added, ...kept].slice(0, FEED_SIZE);
      });
    },
    [refresh],
  );
  useTraceUpdates(projectId, null, onTraces, { onResync: () => read(true) });

  if (!projectId) return <NoProject />;

  return (
    <div className="overview-page">
      <h1 className="sr-only">Overview</h1>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <LastHour analytics={analytics} loading={loading} />
      {traceCount === 0 && feed.length === 0 ? <FirstTrace /> : null}
      <LiveFeed traces={feed} loading={loading} />
    </div>
  );
}
