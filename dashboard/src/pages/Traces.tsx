// /traces: the project's traces, filtered, sorted and paged by keyset, all of it in the URL
// (src/lib/filters.ts). New matching traces stream in over traceUpdates with the same
// filter: at the top of page 1 they are inserted at their sorted place; anywhere else they
// wait behind a "Show N new traces" button, so no row moves under the reader's eyes. A
// trace that changes (more spans arrived) is updated in its row.
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useSearchParams } from "react-router-dom";
import { useClient } from "urql";
import { FirstTrace, NoProject } from "../components/traces/FirstTrace";
import { mergeLive, showPending, type LiveListState, type MergeContext } from "../components/traces/liveMerge";
import { TraceListQuery } from "../components/traces/queries";
import { TraceFilterBar } from "../components/traces/TraceFilterBar";
import { TraceTable } from "../components/traces/TraceTable";
import { useTraceUpdates } from "../components/traces/useTraceUpdates";
import { useProject } from "../components/ProjectContext";
import type { TraceRowFragment } from "../gql/graphql";
import {
  PAGE_SIZES,
  firstPage,
  hasConditions,
  parseFilters,
  serialiseFilters,
  toSortInput,
  toTraceFilter,
  type SortFieldValue,
  type TraceFilters,
} from "../lib/filters";
import { formatNumber } from "../lib/format";
import "./Traces.css";

/** Rows a page may gain live before it is read again from the server instead. */
const MAX_LIVE_ROWS = 2000;
/** Beyond this many waiting traces, "Show" reads page 1 again rather than merging. */
const MAX_PENDING_MERGE = 1000;
/** How long a row that just arrived stays highlighted. */
const FRESH_MS = 1500;

type Row = TraceRowFragment;

interface PageState {
  hasNextPage: boolean;
  endCursor: string | null;
  traceCount: number;
}

const EMPTY: LiveListState<Row> = { rows: [], pending: new Map(), fresh: new Set() };

export function TracesPage() {
  const { project } = useProject();
  const projectId = project?.id ?? null;
  const client = useClient();
  const [params, setParams] = useSearchParams();
  const query = params.toString();
  const filters = useMemo(() => parseFilters(query), [query]);
  const canonical = serialiseFilters(filters);

  const go = useCallback(
    (next: TraceFilters, replace = false) => setParams(serialiseFilters(next), { replace }),
    [setParams],
  );

  // A URL that says something odd is rewritten to what is shown (without a history entry).
  useEffect(() => {
    if (query !== canonical) setParams(canonical, { replace: true });
  }, [query, canonical, setParams]);

  // Another project's page cursors mean nothing here: back to page 1 on a switch.
  const shownProject = useRef(projectId);
  useEffect(() => {
    if (shownProject.current !== projectId) {
      shownProject.current = projectId;
      if (filters.cursors.length > 0) go(firstPage(filters), true);
    }
  }, [projectId, filters, go]);

  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);
  // A preset counts back from when the list was read (a reload reads it again, from then).
  const variables = useMemo(
    () => ({
      filter: toTraceFilter(filters),
      sort: toSortInput(filters),
      first: filters.pageSize,
      after: filters.cursors[filters.cursors.length - 1] ?? null,
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [canonical, reloads],
  );
  // The live filter changes with the conditions only, so a reload keeps the subscription.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const liveFilter = useMemo(() => toTraceFilter(filters), [canonical]);

  const [list, setList] = useState<LiveListState<Row>>(EMPTY);
  const [page, setPage] = useState<PageState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const scrollRef = useRef<HTMLDivElement>(null);
  const atTop = useRef(true);
  /** Live traces that came while a page was being read: merged into it when it comes. */
  const early = useRef<Map<string, Row> | null>(new Map());
  const shownKey = useRef<string | null>(null);

  const isFirstPage = filters.cursors.length === 0;
  const context = useRef<MergeContext>({
    sort: filters.sort,
    direction: filters.direction,
    firstPage: isFirstPage,
    hasNextPage: true,
    atTop: true,
  });
  context.current = {
    sort: filters.sort,
    direction: filters.direction,
    firstPage: isFirstPage,
    hasNextPage: page?.hasNextPage ?? true,
    atTop: atTop.current,
  };

  useEffect(() => {
    if (!projectId) return;
    let cancelled = false;
    setLoading(true);
    early.current = new Map();
    const key = `${projectId}?${canonical}`;
    void client
      .query(TraceListQuery, { projectId, ...variables }, { requestPolicy: "network-only" })
      .toPromise()
      .then((result) => {
        if (cancelled) return;
        setLoading(false);
        const connection = result.data?.project?.traces;
        if (result.error || !connection) {
          setError(result.error?.message.replace(/^\[\w+\]\s*/, "") ?? "This project cannot be read.");
          setList(EMPTY);
          setPage(null);
          early.current = null;
          return;
        }
        setError(null);
        const pageState: PageState = {
          hasNextPage: connection.pageInfo.hasNextPage,
          endCursor: connection.pageInfo.endCursor ?? null,
          traceCount: result.data?.project?.traceCount ?? 0,
        };
        let state: LiveListState<Row> = { rows: connection.nodes, pending: new Map(), fresh: new Set() };
        const known = new Set(state.rows.map((row) => row.traceId));
        const buffered = [...(early.current?.values() ?? [])].filter((t) => !known.has(t.traceId));
        early.current = null;
        if (shownKey.current !== key) {
          // Another page or other filters: start at its top.
          shownKey.current = key;
          if (scrollRef.current) scrollRef.current.scrollTop = 0;
          atTop.current = true;
        }
        state = mergeLive(state, buffered, {
          ...context.current,
          hasNextPage: pageState.hasNextPage,
          atTop: atTop.current,
        });
        setPage(pageState);
        setList(state);
      });
    return () => {
      cancelled = true;
    };
  }, [client, projectId, canonical, variables]);

  const onTraces = useCallback((batch: Row[]) => {
    if (early.current) {
      for (const trace of batch) early.current.set(trace.traceId, trace);
      return;
    }
    setList((state) => mergeLive(state, batch, { ...context.current, atTop: atTop.current }));
  }, []);
  useTraceUpdates(projectId, liveFilter, onTraces, { onResync: reload });

  // A page that grew too long live is read again (the newest page 1, with its cursors).
  useEffect(() => {
    if (list.rows.length > filters.pageSize + MAX_LIVE_ROWS) reload();
  }, [list.rows.length, filters.pageSize, reload]);

  useEffect(() => {
    if (list.fresh.size === 0) return;
    const timer = setTimeout(() => setList((s) => (s.fresh.size ? { ...s, fresh: new Set() } : s)), FRESH_MS);
    return () => clearTimeout(timer);
  }, [list.fresh]);

  const showNew = () => {
    if (!isFirstPage) {
      go(firstPage(filters));
      return;
    }
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
    atTop.current = true;
    if (list.pending.size > MAX_PENDING_MERGE) reload();
    else setList((state) => showPending(state, { ...context.current, atTop: true }));
  };

  const onSort = (field: SortFieldValue) => {
    const direction = field === filters.sort && filters.direction === "DESC" ? "ASC" : "DESC";
    go(firstPage({ ...filters, sort: field, direction }));
  };

  const pageNumber = filters.cursors.length + 1;
  const pending = list.pending.size;
  // A project without any trace yet teaches how to send one (until one arrives).
  const emptyProject =
    page !== null && page.traceCount === 0 && !hasConditions(filters) && isFirstPage && list.rows.length === 0;

  let empty: ReactNode = null;
  if (!loading && !error && list.rows.length === 0) {
    empty = hasConditions(filters) ? (
      <>No traces match these filters{isFirstPage ? "" : " on this page"}. New matching traces appear here live.</>
    ) : isFirstPage ? (
      <>No traces yet. They appear here live as they arrive.</>
    ) : (
      <>No more traces.</>
    );
  }

  if (!projectId) return <NoProject />;

  return (
    <div className="traces-page">
      <div className="traces-head">
        <h1>Traces</h1>
        <span className="tl-muted">
          {loading ? "Loading…" : `Page ${pageNumber} · ${formatNumber(list.rows.length)} shown`}
        </span>
      </div>
      <TraceFilterBar filters={filters} onChange={(next) => go(next)} />
      {error && (
        <div className="error traces-error" role="alert">
          {error}
          {!isFirstPage && (
            <button type="button" className="ghost" onClick={() => go(firstPage(filters))}>
              Back to the first page
            </button>
          )}
        </div>
      )}
      <div className={`traces-table-wrap${emptyProject ? " is-empty" : ""}`}>
        {pending > 0 && (
          <button type="button" className="show-new" onClick={showNew}>
            {pending > MAX_PENDING_MERGE
              ? `Show ${formatNumber(MAX_PENDING_MERGE)}+ new traces`
              : `Show ${pending} new trace${pending === 1 ? "" : "s"}`}
          </button>
        )}
        <TraceTable
          rows={list.rows}
          label="Traces"
          sort={filters.sort}
          direction={filters.direction}
          onSort={onSort}
          fresh={list.fresh}
          scrollRef={scrollRef}
          busy={loading}
          empty={empty}
          onScroll={(event) => {
            atTop.current = event.currentTarget.scrollTop < 8;
          }}
        />
      </div>
      {emptyProject && <FirstTrace />}
      <nav className="traces-pager" aria-label="Pages of traces">
        <button
          type="button"
          className="ghost"
          disabled={isFirstPage}
          onClick={() => go({ ...filters, cursors: filters.cursors.slice(0, -1) })}
        >
          Previous page
        </button>
        <span className="tl-muted">Page {pageNumber}</span>
        <button
          type="button"
          className="ghost"
          disabled={loading || !page?.hasNextPage || !page.endCursor}
          onClick={() => page?.endCursor && go({ ...filters, cursors: [...filters.cursors, page.endCursor] })}
        >
          Next page
        </button>
        <span className="spacer" />
        <label className="page-size">
          Rows per page{" "}
          <select
            value={filters.pageSize}
            onChange={(event) => go(firstPage({ ...filters, pageSize: Number(event.target.value) }))}
          >
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </label>
      </nav>
    </div>
  );
}
