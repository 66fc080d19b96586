// /sessions: multi-turn conversations, grouped by session id (Project.sessions), most
// recently active first. Choosing one (kept in the URL as ?session=) lists its traces in
// order, from the trace list filtered by that session id; its new traces join live.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { useClient, useQuery } from "urql";
import { NoProject } from "../components/traces/FirstTrace";
import { mergeLive, type LiveListState } from "../components/traces/liveMerge";
import { TraceStatus } from "../components/traces/TraceTable";
import { useTraceUpdates } from "../components/traces/useTraceUpdates";
import { useProject } from "../components/ProjectContext";
import { graphql } from "../gql";
import type { SessionsQuery, TraceRowFragment } from "../gql/graphql";
import { RANGE_LABELS, RANGE_PRESETS, type RangePreset } from "../lib/filters";
import { formatCost, formatDuration, formatNumber, formatTime } from "../lib/format";
import "../components/traces/traces.css";
import "./Sessions.css";

const Sessions = graphql(`
  query Sessions($projectId: ID!, $timeRange: TimeRangeInput, $limit: Int!) {
    project(id: $projectId) {
      id
      sessions(timeRange: $timeRange, limit: $limit) {
        id
        traceCount
        errorCount
        totalTokens
        cost
        firstSeen
        lastSeen
      }
    }
  }
`);

const SessionTraces = graphql(`
  query SessionTraces($projectId: ID!, $sessionId: String!, $first: Int!, $after: String) {
    project(id: $projectId) {
      id
      traces(
        filter: { sessionId: [$sessionId] }
        sort: { field: START_TIME, direction: ASC }
        first: $first
        after: $after
      ) {
        nodes {
          ...TraceRow
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

type Session = NonNullable<SessionsQuery["project"]>["sessions"][number];

const STEP = 50;
const MAX_SESSIONS = 500; // the API's limit
const TRACES_PAGE = 100;
const RANGES: RangePreset[] = ["1h", "24h", "7d", "30d"];
const ROW_HEIGHT = 37;
const HEADER_HEIGHT = 35;

function sessionSpan(first: string, last: string): number {
  return Math.max(0, Date.parse(last) - Date.parse(first));
}

function SessionTable({
  sessions,
  selected,
  linkTo,
  compact,
}: {
  sessions: Session[];
  selected: string | null;
  linkTo: (id: string) => string;
  /** Beside a session's detail: fewer columns. */
  compact: boolean;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: sessions.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    paddingStart: HEADER_HEIGHT,
    overscan: 12,
    getItemKey: (index) => sessions[index]?.id ?? index,
  });
  const items = virtualizer.getVirtualItems();
  const padTop = items[0] ? items[0].start - HEADER_HEIGHT : 0;
  const last = items[items.length - 1];
  const padBottom = last ? virtualizer.getTotalSize() - last.end : 0;
  return (
    <div className="trace-table-scroll sessions-scroll" ref={scrollRef}>
      <table
        className={`grid trace-table sessions-table${compact ? " compact" : ""}`}
        aria-label="Sessions"
        aria-rowcount={sessions.length + 1}
      >
        <colgroup>
          <col className="s-id" />
          <col className="s-num" />
          <col className="s-num" />
          {!compact && <col className="s-time" />}
          <col className="s-time" />
          {!compact && <col className="s-num" />}
          <col className="s-tokens" />
          <col className="s-num" />
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            <th>Session</th>
            <th className="num">Traces</th>
            <th className="num">Errors</th>
            {!compact && <th>First trace</th>}
            <th>Last trace</th>
            {!compact && (
              <th className="num" title="From the first trace's start to the last one's">
                Duration
              </th>
            )}
            <th className="num">Tokens</th>
            <th className="num">Cost</th>
          </tr>
        </thead>
        <tbody>
          {padTop > 0 && (
            <tr aria-hidden="true" className="spacer" style={{ height: padTop }}>
              <td colSpan={compact ? 6 : 8} />
            </tr>
          )}
          {items.map((item) => {
            const s = sessions[item.index];
            if (!s) return null;
            const current = s.id === selected;
            return (
              <tr
                key={item.key}
                aria-rowindex={item.index + 2}
                className={current ? "selected" : undefined}
                style={{ height: ROW_HEIGHT }}
              >
                <td className="name" title={s.id}>
                  <Link to={linkTo(s.id)} aria-current={current ? "true" : undefined}>
                    {s.id}
                  </Link>
                </td>
                <td className="num">{formatNumber(s.traceCount)}</td>
                <td className={`num${s.errorCount ? " has-errors" : ""}`}>{formatNumber(s.errorCount)}</td>
                {!compact && <td title={s.firstSeen}>{formatTime(s.firstSeen)}</td>}
                <td title={s.lastSeen}>{formatTime(s.lastSeen)}</td>
                {!compact && <td className="num">{formatDuration(sessionSpan(s.firstSeen, s.lastSeen))}</td>}
                <td className="num">{formatNumber(s.totalTokens)}</td>
                <td className="num">{formatCost(s.cost)}</td>
              </tr>
            );
          })}
          {padBottom > 0 && (
            <tr aria-hidden="true" className="spacer" style={{ height: padBottom }}>
              <td colSpan={compact ? 6 : 8} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

type TraceList = LiveListState<TraceRowFragment> & { hasNextPage: boolean; endCursor: string | null };

function SessionDetail({
  projectId,
  sessionId,
  summary,
  closeTo,
}: {
  projectId: string;
  sessionId: string;
  summary?: Session;
  /** The URL without this session chosen. */
  closeTo: string;
}) {
  const client = useClient();
  const [list, setList] = useState<TraceList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    (after: string | null) => {
      setBusy(true);
      void client
        .query(SessionTraces, { projectId, sessionId, first: TRACES_PAGE, after }, { requestPolicy: "network-only" })
        .toPromise()
        .then((result) => {
          setBusy(false);
          const connection = result.data?.project?.traces;
          if (result.error || !connection) {
            setError(result.error?.message.replace(/^\[\w+\]\s*/, "") ?? "This session cannot be read.");
            return;
          }
          setError(null);
          setList((current) => {
            const previous = after && current ? current.rows : [];
            const known = new Set(previous.map((t) => t.traceId));
            return {
              rows: [...previous, ...connection.nodes.filter((t) => !known.has(t.traceId))],
              pending: new Map(),
              fresh: new Set(),
              hasNextPage: connection.pageInfo.hasNextPage,
              endCursor: connection.pageInfo.endCursor ?? null,
            };
          });
        });
    },
    [client, projectId, sessionId],
  );

  useEffect(() => {
    setList(null);
    load(null);
  }, [load]);

  const liveFilter = useMemo(() => ({ sessionId: [sessionId] }), [sessionId]);
  useTraceUpdates(
    projectId,
    liveFilter,
    (batch) =>
      setList((current) => {
        if (!current) return current;
        const merged = mergeLive(current, batch, {
          sort: "START_TIME",
          direction: "ASC",
          firstPage: true,
          hasNextPage: current.hasNextPage,
          atTop: true,
        });
        return merged === current ? current : { ...current, ...merged };
      }),
    { onResync: () => load(null) },
  );

  const fresh = list?.fresh;
  useEffect(() => {
    if (!fresh?.size) return;
    const timer = setTimeout(
      () => setList((current) => (current?.fresh.size ? { ...current, fresh: new Set() } : current)),
      1500,
    );
    return () => clearTimeout(timer);
  }, [fresh]);

  const rows = list?.rows ?? [];
  const users = [...new Set(rows.map((t) => t.userId).filter((u): u is string => !!u))];
  // All its traces are here (and kept up to date live): count them; else the list's figures,
  // or, for a session beyond the list, what the pages read so far add up to ("+").
  const complete = list !== null && !list.hasNextPage;
  const partial = !complete && !summary;
  const more = partial && list !== null ? "+" : "";
  const sumRows = (pick: (t: TraceRowFragment) => number) => rows.reduce((n, t) => n + pick(t), 0);
  const traceCount = complete || !summary ? rows.length : summary.traceCount;
  const tokens = complete || !summary ? sumRows((t) => t.totalTokens) : summary.totalTokens;
  const cost = complete || !summary ? sumRows((t) => t.cost) : summary.cost;
  const first = rows[0]?.startTime ?? summary?.firstSeen;
  const last = complete || !summary ? rows[rows.length - 1]?.startTime : summary.lastSeen;
  const span = first && last ? sessionSpan(first, last) : 0;

  return (
    <section className="card session-detail" aria-label={`Session ${sessionId}`}>
      <div className="session-head">
        <h2 title={sessionId}>{sessionId}</h2>
        <Link to={`/traces?session=${encodeURIComponent(sessionId)}`}>Open in Traces →</Link>
        <Link className="session-close" to={closeTo} aria-label="Close session">
          ✕
        </Link>
      </div>
      <dl className="session-facts">
        <div>
          <dt>Traces</dt>
          <dd>
            {formatNumber(traceCount)}
            {more}
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{span > 0 ? `${formatDuration(span)}${more}` : "–"}</dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>
            {formatNumber(tokens)}
            {more}
          </dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{`${formatCost(cost) || "$0"}${more}`}</dd>
        </div>
        <div>
          <dt>{users.length === 1 ? "User" : "Users"}</dt>
          <dd>{users.length ? users.join(", ") : "–"}</dd>
        </div>
      </dl>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {list === null && !error ? (
        <p className="tl-muted">Loading…</p>
      ) : rows.length === 0 && !error ? (
        <p className="tl-muted">No traces in this session.</p>
      ) : (
        <ol className="session-traces" aria-label="Traces in this session">
          {rows.map((trace, i) => {
            const previous = rows[i - 1];
            const gap = previous ? Date.parse(trace.startTime) - Date.parse(previous.startTime) : null;
            return (
              <li key={trace.traceId} className={list?.fresh.has(trace.traceId) ? "fresh" : undefined}>
                <span className="turn" aria-hidden="true">
                  {i + 1}
                </span>
                <div className="turn-body">
                  <div className="turn-line">
                    <Link to={`/traces/${trace.traceId}`}>{trace.name}</Link>
                    <TraceStatus trace={trace} />
                  </div>
                  <div className="turn-meta">
                    <time dateTime={trace.startTime}>{formatTime(trace.startTime)}</time>
                    {gap !== null && <span title="Since the previous trace">+{formatDuration(gap)}</span>}
                    <span>{formatDuration(trace.durationMs)}</span>
                    <span>{formatNumber(trace.spanCount)} spans</span>
                    {trace.totalTokens > 0 && <span>{formatNumber(trace.totalTokens)} tokens</span>}
                    {trace.cost > 0 && <span>{formatCost(trace.cost)}</span>}
                    {trace.userId && <span>{trace.userId}</span>}
                  </div>
                </div>
              </li>
            );
          })}
        </ol>
      )}
      {list?.hasNextPage && (
        <button type="button" className="ghost" disabled={busy} onClick={() => load(list.endCursor)}>
          {busy ? "Loading…" : "Load more traces"}
        </button>
      )}
    </section>
  );
}

export function SessionsPage() {
  const { project } = useProject();
  const projectId = project?.id ?? null;
  const [params, setParams] = useSearchParams();
  const selected = params.get("session") || null;
  const rangeParam = params.get("range");
  const range = RANGES.includes(rangeParam as RangePreset) ? (rangeParam as RangePreset) : null;
  const limitParam = Number(params.get("n"));
  const limit =
    Number.isInteger(limitParam) && limitParam >= STEP && limitParam <= MAX_SESSIONS && limitParam % STEP === 0
      ? limitParam
      : STEP;

  // A preset counts back from when it was chosen (or Refresh was pressed).
  const [refreshes, setRefreshes] = useState(0);
  const timeRange = useMemo(
    () => (range ? { start: new Date(Date.now() - RANGE_PRESETS[range]).toISOString() } : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [range, refreshes],
  );
  const [result, refetch] = useQuery({
    query: Sessions,
    variables: { projectId: projectId ?? "", timeRange, limit },
    pause: !projectId,
    requestPolicy: "cache-and-network",
  });
  const sessions = result.data?.project?.sessions ?? [];
  const summary = sessions.find((s) => s.id === selected);

  const withParam = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value === null) next.delete(name);
    else next.set(name, value);
    return next;
  };
  const linkTo = (id: string) => `?${withParam("session", id).toString()}`;

  if (!projectId) return <NoProject />;

  return (
    <div className="sessions-page">
      <div className="sessions-head">
        <h1>Sessions</h1>
        <span className="tl-muted">Multi-turn conversations, grouped by session id, most recently active first.</span>
        <span className="spacer" />
        <label className="sessions-range">
          <span>Time range</span>
          <select
            value={range ?? ""}
            onChange={(event) => setParams(withParam("range", event.target.value || null))}
          >
            <option value="">Any time</option>
            {RANGES.map((r) => (
              <option key={r} value={r}>
                {RANGE_LABELS[r]}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="ghost"
          onClick={() => {
            if (range) setRefreshes((n) => n + 1);
            else refetch({ requestPolicy: "network-only" });
          }}
        >
          Refresh
        </button>
      </div>
      {result.error && (
        <p className="error" role="alert">
          {result.error.message.replace(/^\[\w+\]\s*/, "")}
        </p>
      )}
      <div className={`sessions-body${selected ? " with-detail" : ""}`}>
        <div className="sessions-list">
          {result.fetching && !result.data ? (
            <p className="tl-muted">Loading…</p>
          ) : sessions.length === 0 ? (
            <div className="card sessions-empty">
              <p>No sessions{range ? " in this time range" : " yet"}.</p>
              <p className="tl-muted">
                Traces are grouped here by their session id: set <code>session_id</code> on a trace (native
                API and SDK) or the <code>session.id</code> attribute on a span (OpenTelemetry).
              </p>
            </div>
          ) : (
            <SessionTable sessions={sessions} selected={selected} linkTo={linkTo} compact={!!selected} />
          )}
          <div className="sessions-more">
            <span className="tl-muted">
              {formatNumber(sessions.length)} session{sessions.length === 1 ? "" : "s"} shown
            </span>
            {sessions.length >= limit && limit < MAX_SESSIONS && (
              <button
                type="button"
                className="ghost"
                onClick={() => setParams(withParam("n", String(limit + STEP)), { replace: true })}
              >
                Show more sessions
              </button>
            )}
          </div>
        </div>
        {selected && projectId && (
          <div className="sessions-detail">
            <SessionDetail
              key={selected}
              projectId={projectId}
              sessionId={selected}
              summary={summary}
              closeTo={`?${withParam("session", null).toString()}`}
            />
          </div>
        )}
      </div>
    </div>
  );
}
