// The trace list as a table, virtualised: only the rows in view (and a few around them)
// are in the DOM, so a page grown by a live burst stays smooth. Rows have a fixed height
// and the columns fixed widths, so nothing jumps as rows come and go.
import { useVirtualizer } from "@tanstack/react-virtual";
import type { CSSProperties, ReactNode, RefObject, UIEvent } from "react";
import { Link } from "react-router-dom";
import type { TraceRowFragment } from "../../gql/graphql";
import type { SortDirectionValue, SortFieldValue } from "../../lib/filters";
import { formatCost, formatDuration, formatNumber, formatTime } from "../../lib/format";
import "./traces.css";

export const ROW_HEIGHT = 37;
const HEADER_HEIGHT = 35;

export function TraceStatus({ trace }: { trace: Pick<TraceRowFragment, "status" | "errorCount"> }) {
  return (
    <span className={`tl-status status-${trace.status}`}>
      <span className="dot" aria-hidden="true" />
      {trace.status}
      {trace.status === "ERROR" && trace.errorCount > 1 && (
        <span className="tl-muted"> ×{trace.errorCount}</span>
      )}
    </span>
  );
}

interface SortableColumn {
  field: SortFieldValue;
  label: string;
}

function SortHeader({
  column,
  sort,
  direction,
  onSort,
  className,
}: {
  column: SortableColumn;
  sort: SortFieldValue;
  direction: SortDirectionValue;
  onSort?: (field: SortFieldValue) => void;
  className?: string;
}) {
  const active = column.field === sort;
  const ariaSort = active ? (direction === "DESC" ? "descending" : "ascending") : "none";
  if (!onSort) return <th className={className}>{column.label}</th>;
  return (
    <th className={className} aria-sort={ariaSort}>
      <button
        type="button"
        className={`tl-sort${active ? " active" : ""}`}
        onClick={() => onSort(column.field)}
        title={`Sort by ${column.label.toLowerCase()}`}
      >
        {column.label}
        <span aria-hidden="true" className="arrow">
          {active ? (direction === "DESC" ? "▼" : "▲") : "↕"}
        </span>
      </button>
    </th>
  );
}

export interface TraceTableProps {
  rows: TraceRowFragment[];
  label: string;
  sort: SortFieldValue;
  direction: SortDirectionValue;
  onSort?: (field: SortFieldValue) => void;
  /** Trace ids to highlight for a moment (just arrived). */
  fresh?: Set<string>;
  scrollRef: RefObject<HTMLDivElement>;
  onScroll?: (event: UIEvent<HTMLDivElement>) => void;
  /** Shown in place of the rows when there are none. */
  empty?: ReactNode;
  busy?: boolean;
}

export function TraceTable({
  rows,
  label,
  sort,
  direction,
  onSort,
  fresh,
  scrollRef,
  onScroll,
  empty,
  busy = false,
}: TraceTableProps) {
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    paddingStart: HEADER_HEIGHT,
    overscan: 12,
    getItemKey: (index) => rows[index]?.traceId ?? index,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items[items.length - 1];
  const padTop = first ? first.start - HEADER_HEIGHT : 0;
  const padBottom = last ? virtualizer.getTotalSize() - last.end : 0;
  const headerProps = { sort, direction, onSort };

  return (
    <div
      className="trace-table-scroll"
      ref={scrollRef}
      onScroll={onScroll}
      aria-busy={busy}
    >
      <table className="grid trace-table" aria-label={label} aria-rowcount={rows.length + 1}>
        <colgroup>
          <col className="c-name" />
          <col className="c-status" />
          <col className="c-time" />
          <col className="c-num" />
          <col className="c-spans" />
          <col className="c-num" />
          <col className="c-num" />
          <col className="c-user" />
          <col className="c-session" />
          <col className="c-tags" />
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            <th>Name</th>
            <th>Status</th>
            <SortHeader column={{ field: "START_TIME", label: "Started" }} {...headerProps} />
            <SortHeader column={{ field: "DURATION", label: "Duration" }} className="num" {...headerProps} />
            <th className="num">Spans</th>
            <SortHeader column={{ field: "TOKENS", label: "Tokens" }} className="num" {...headerProps} />
            <SortHeader column={{ field: "COST", label: "Cost" }} className="num" {...headerProps} />
            <th>User</th>
            <th>Session</th>
            <th>Tags</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && empty ? (
            <tr>
              <td colSpan={10} className="trace-table-empty">
                {empty}
              </td>
            </tr>
          ) : null}
          {padTop > 0 && (
            <tr aria-hidden="true" className="spacer" style={{ height: padTop }}>
              <td colSpan={10} />
            </tr>
          )}
          {items.map((item) => {
            const trace = rows[item.index];
            if (!trace) return null;
            const style: CSSProperties = { height: ROW_HEIGHT };
            return (
              <tr
                key={item.key}
                aria-rowindex={item.index + 2}
                className={fresh?.has(trace.traceId) ? "fresh" : undefined}
                style={style}
              >
                <td className="name" title={trace.name}>
                  <Link to={`/traces/${trace.traceId}`}>{trace.name}</Link>
                </td>
                <td>
                  <TraceStatus trace={trace} />
                </td>
                <td title={trace.startTime}>{formatTime(trace.startTime)}</td>
                <td className="num">{formatDuration(trace.durationMs)}</td>
                <td className="num">{formatNumber(trace.spanCount)}</td>
                <td className="num">{trace.totalTokens ? formatNumber(trace.totalTokens) : "–"}</td>
                <td className="num">{trace.cost ? formatCost(trace.cost) : "–"}</td>
                <td title={trace.userId ?? undefined}>{trace.userId ?? <span className="tl-muted">–</span>}</td>
                <td title={trace.sessionId ?? undefined}>
                  {trace.sessionId ? (
                    <Link to={`/sessions?session=${encodeURIComponent(trace.sessionId)}`}>
                      {trace.sessionId}
                    </Link>
                  ) : (
                    <span className="tl-muted">–</span>
                  )}
                </td>
                <td className="tags" title={trace.tags.join(", ")}>
                  {trace.tags.map((tag) => (
                    <span key={tag} className="tl-tag">
                      {tag}
                    </span>
                  ))}
                </td>
              </tr>
            );
          })}
          {padBottom > 0 && (
            <tr aria-hidden="true" className="spacer" style={{ height: padBottom }}>
              <td colSpan={10} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
