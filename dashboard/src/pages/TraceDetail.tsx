// /traces/:traceId — the span tree beside the waterfall (or the agent graph), the selected
// span's detail, spans arriving live.
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { useProject } from "../components/ProjectContext";
import { AgentGraph } from "../components/trace/AgentGraph";
import { SpanDetail } from "../components/trace/SpanDetail";
import { SpanList } from "../components/trace/SpanList";
import { useTraceData, type TraceData } from "../components/trace/useTraceData";
import { formatCost, formatDuration, formatNumber, formatTime } from "../lib/format";
import { ancestorsOf, parentsOf, visibleRows } from "../lib/tree";
import { traceRange } from "../lib/waterfall";
import "./TraceDetail.css";

type View = "timeline" | "graph";
const LIVE_LABELS: Record<TraceData["live"], string> = {
  connecting: "Connecting…",
  live: "Live",
  retrying: "Reconnecting…",
  stopped: "Not live",
};
const VIEWS: [View, string][] = [
  ["timeline", "Timeline"],
  ["graph", "Graph"],
];

export function TraceDetailPage() {
  const { traceId = "" } = useParams();
  const { project } = useProject();
  if (!project) return <div className="empty">No project to look in. Create one on the Projects page.</div>;
  const normalized = traceId.toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(normalized)) {
    return (
      <div className="empty">
        “{traceId}” is not a trace id (32 hex digits). <Link to="/traces">Back to traces</Link>
      </div>
    );
  }
  return <TraceView key={`${project.id}/${normalized}`} projectId={project.id} projectName={project.name} traceId={normalized} />;
}

function useNow(running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}

function TraceView({ projectId, projectName, traceId }: { projectId: string; projectName: string; traceId: string }) {
  const data = useTraceData(projectId, traceId);
  const { tree, totals, header } = data;
  const [params, setParams] = useSearchParams();
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const [view, setView] = useState<View>(params.get("view") === "graph" ? "graph" : "timeline");
  const requested = params.get("span");
  const [selectedId, setSelectedId] = useState<string | null>(requested);
  const [activeId, setActiveId] = useState<string | null>(requested);
  // Scroll the list to this span; `seq` asks again for the same span.
  const [reveal, setReveal] = useState<{ spanId: string; seq: number } | null>(null);
  const revealSpan = useCallback(
    (spanId: string) => setReveal((previous) => ({ spanId, seq: (previous?.seq ?? 0) + 1 })),
    [],
  );
  const now = useNow(totals.running > 0);

  const firstSpan = tree.order[0]?.spanId ?? null;
  useEffect(() => {
    // Until someone picks a span, the root is shown.
    if (selectedId === null && firstSpan !== null) {
      setSelectedId(firstSpan);
      setActiveId((active) => active ?? firstSpan);
    }
  }, [selectedId, firstSpan]);

  const rows = useMemo(() => visibleRows(tree, collapsed), [tree, collapsed]);
  const range = useMemo(
    () => traceRange(tree.order, now),
    // `now` matters only while a span runs.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [tree, totals.running > 0 ? now : 0],
  );

  const remember = useCallback(
    (key: string, value: string | null) => {
      setParams(
        (previous) => {
          const next = new URLSearchParams(previous);
          if (value === null) next.delete(key);
          else next.set(key, value);
          return next;
        },
        { replace: true },
      );
    },
    [setParams],
  );

  const select = useCallback(
    (spanId: string) => {
      setSelectedId(spanId);
      remember("span", spanId);
    },
    [remember],
  );

  const toggle = useCallback((spanId: string, expand: boolean) => {
    setCollapsed((previous) => {
      const next = new Set(previous);
      if (expand) next.delete(spanId);
      else next.add(spanId);
      return next;
    });
  }, []);

  /** Selects a span from elsewhere (the graph): opens its ancestors and scrolls to it. */
  const showSpan = useCallback(
    (spanId: string) => {
      const above = ancestorsOf(tree, spanId);
      if (above.some((id) => collapsed.has(id))) {
        setCollapsed((previous) => {
          const next = new Set(previous);
          above.forEach((id) => next.delete(id));
          return next;
        });
      }
      select(spanId);
      setActiveId(spanId);
      revealSpan(spanId);
    },
    [tree, collapsed, select, revealSpan],
  );

  // A span asked for in the URL may sit under collapsed spans, or arrive live later.
  const requestedPresent = requested !== null && tree.index.has(requested);
  useEffect(() => {
    if (requestedPresent && requested) revealSpan(requested);
    // Only once it first appears.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [requestedPresent]);

  const switchView = (next: View) => {
    setView(next);
    remember("view", next === "graph" ? "graph" : null);
  };

  const selected = selectedId === null ? null : tree.order[tree.index.get(selectedId) ?? -1] ?? null;

  if (!data.loaded) return <div className="empty">Loading trace…</div>;
  if (data.error && tree.order.length === 0) {
    return <div className="empty error">Could not load the trace: {data.error}</div>;
  }

  return (
    <div className="trace-page">
      <TraceHeader data={data} traceId={traceId} />
      {tree.order.length === 0 ? (
        <div className="empty card">
          No trace {traceId} in {projectName} yet. Its spans will show here as they arrive.
        </div>
      ) : (
        <>
          <div className="trace-toolbar">
            <div
              role="tablist"
              aria-label="Trace views"
              className="trace-tabs"
              onKeyDown={(event) => {
                if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
                const next: View = view === "timeline" ? "graph" : "timeline";
                switchView(next);
                document.getElementById(`trace-tab-${next}`)?.focus();
              }}
            >
              {VIEWS.map(([id, label]) => (
                <button
                  key={id}
                  type="button"
                  role="tab"
                  id={`trace-tab-${id}`}
                  aria-controls="trace-panel"
                  aria-selected={view === id}
                  tabIndex={view === id ? 0 : -1}
                  className={view === id ? "active" : ""}
                  onClick={() => switchView(id)}
                >
                  {label}
                </button>
              ))}
            </div>
            <span className="spacer" />
            <button type="button" className="ghost" onClick={() => setCollapsed(new Set())}>
              Expand all
            </button>
            <button type="button" className="ghost" onClick={() => setCollapsed(new Set(parentsOf(tree)))}>
              Collapse all
            </button>
          </div>
          <div className="trace-body">
            <div
              id="trace-panel"
              role="tabpanel"
              aria-labelledby={view === "graph" ? "trace-tab-graph" : "trace-tab-timeline"}
              className={`trace-main${view === "graph" ? " with-graph" : ""}`}
            >
              <SpanList
                rows={rows}
                range={range}
                now={now}
                selectedId={selectedId}
                activeId={activeId}
                reveal={reveal}
                showWaterfall={view === "timeline"}
                onActivate={setActiveId}
                onSelect={select}
                onToggle={toggle}
              />
              {view === "graph" && <AgentGraph tree={tree} selectedId={selectedId} onSelect={showSpan} />}
            </div>
            <SpanDetail projectId={projectId} traceId={traceId} span={selected} traceNodeId={header?.id ?? null} />
          </div>
        </>
      )}
    </div>
  );
}

function TraceHeader({ data, traceId }: { data: TraceData; traceId: string }) {
  const { header, totals, tree, live } = data;
  const name = header?.name ?? tree.order[0]?.name ?? traceId;
  const started = header?.startTime ?? tree.order[0]?.startTime ?? null;
  return (
    <header className="trace-head card">
      <div className="trace-title">
        <Link to="/traces" className="back">
          ← Traces
        </Link>
        <h1>{name}</h1>
        {totals.spans > 0 && <span className={`trace-status status-${totals.status}`}>{totals.status}</span>}
        <span className={`live-state live-${live}`} role="status">
          {LIVE_LABELS[live]}
        </span>
      </div>
      <dl className="trace-facts">
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(totals.durationMs)}</dd>
        </div>
        <div>
          <dt>Spans</dt>
          <dd>{formatNumber(totals.spans)}</dd>
        </div>
        <div>
          <dt>Errors</dt>
          <dd className={totals.errors ? "error" : undefined}>{formatNumber(totals.errors)}</dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>{formatNumber(totals.totalTokens)}</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{formatCost(totals.cost)}</dd>
        </div>
        {started && (
          <div>
            <dt>Started</dt>
            <dd>{formatTime(started)}</dd>
          </div>
        )}
        {header?.userId && (
          <div>
            <dt>User</dt>
            <dd>{header.userId}</dd>
          </div>
        )}
        {header?.sessionId && (
          <div>
            <dt>Session</dt>
            <dd>{header.sessionId}</dd>
          </div>
        )}
        {header?.environment && (
          <div>
            <dt>Environment</dt>
            <dd>{header.environment}</dd>
          </div>
        )}
        {header && header.tags.length > 0 && (
          <div>
            <dt>Tags</dt>
            <dd>
              {header.tags.map((tag) => (
                <span key={tag} className="tag">
                  {tag}
                </span>
              ))}
            </dd>
          </div>
        )}
        <div>
          <dt>Trace ID</dt>
          <dd className="mono">{traceId}</dd>
        </div>
      </dl>
    </header>
  );
}
