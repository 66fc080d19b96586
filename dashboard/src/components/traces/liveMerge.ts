// How live trace updates join a page of the trace list without moving rows under the
// reader's eyes: an update to a shown row changes it in place; a new trace that belongs
// on the page is inserted at its sorted place when the reader is at the top of page 1,
// and otherwise waits (counted in a "Show N new traces" button). Pure functions, tested.
import type { SortDirectionValue, SortFieldValue } from "../../lib/filters";

/** What the merge needs of a trace: its id and the values the list sorts by. */
export interface Sortable {
  traceId: string;
  startTime: string;
  durationMs?: number | null;
  cost: number;
  totalTokens: number;
}

/** An ISO instant as microseconds since the epoch (the server keeps microseconds). */
export function instantMicros(iso: string): number {
  const match = /\.(\d+)/.exec(iso);
  const base = Date.parse(match ? iso.replace(match[0], "") : iso);
  const fraction = match ? Number((match[1] ?? "").slice(0, 6).padEnd(6, "0")) : 0;
  return base * 1000 + fraction;
}

/** A trace's sort value, as the server computes it (resolvers/traces.py). */
export function sortValue(trace: Sortable, field: SortFieldValue): number {
  switch (field) {
    case "START_TIME":
      return instantMicros(trace.startTime);
    case "DURATION":
      // A running trace has no duration yet: it sorts as the shortest.
      return trace.durationMs ?? -1;
    case "COST":
      return trace.cost;
    case "TOKENS":
      return trace.totalTokens;
  }
}

/** Negative when `a` comes before `b` in the list's order (ties broken by trace id). */
export function compareTraces(
  a: Sortable,
  b: Sortable,
  field: SortFieldValue,
  direction: SortDirectionValue,
): number {
  const va = sortValue(a, field);
  const vb = sortValue(b, field);
  let order = va === vb ? 0 : va < vb ? -1 : 1;
  if (order === 0) order = a.traceId < b.traceId ? -1 : a.traceId > b.traceId ? 1 : 0;
  return direction === "DESC" ? -order : order;
}

export interface LiveListState<T extends Sortable> {
  rows: T[];
  /** New traces held back while the reader is away from the top: by trace id. */
  pending: Map<string, T>;
  /** Trace ids inserted live (a row may be highlighted for a moment). */
  fresh: Set<string>;
}

export interface MergeContext {
  sort: SortFieldValue;
  direction: SortDirectionValue;
  /** Whether this page is the first one. */
  firstPage: boolean;
  /** Whether more rows follow this page (it ends at its last row). */
  hasNextPage: boolean;
  /** Whether new rows may be inserted right now: first page, scrolled to the top. */
  atTop: boolean;
}

/** Where a trace that is not on the page belongs: on it (or before it), or after it. */
function belongsOnOrBefore<T extends Sortable>(rows: T[], trace: T, ctx: MergeContext): boolean {
  const last = rows[rows.length - 1];
  if (!last) return ctx.firstPage || !ctx.hasNextPage;
  if (!ctx.hasNextPage) return true;
  return compareTraces(trace, last, ctx.sort, ctx.direction) < 0;
}

/** Inserts `trace` at its sorted place in (a copy of) `rows`. */
export function insertSorted<T extends Sortable>(rows: T[], trace: T, ctx: MergeContext): T[] {
  let at = rows.findIndex((row) => compareTraces(trace, row, ctx.sort, ctx.direction) < 0);
  if (at < 0) at = rows.length;
  return [...rows.slice(0, at), trace, ...rows.slice(at)];
}

/**
 * Applies a batch of live traces (already de-duplicated, last state wins) to the list.
 * Returns the same state object when nothing changed.
 */
export function mergeLive<T extends Sortable>(
  state: LiveListState<T>,
  batch: T[],
  ctx: MergeContext,
): LiveListState<T> {
  if (batch.length === 0) return state;
  const index = new Map(state.rows.map((row, i) => [row.traceId, i]));
  let rows = state.rows;
  let pending = state.pending;
  let fresh = state.fresh;
  const toInsert: T[] = [];
  for (const trace of batch) {
    const at = index.get(trace.traceId);
    if (at !== undefined) {
      if (rows === state.rows) rows = [...rows];
      rows[at] = trace; // in place: the row keeps its position
      continue;
    }
    if (pending.has(trace.traceId)) {
      if (pending === state.pending) pending = new Map(pending);
      pending.set(trace.traceId, trace);
      continue;
    }
    if (!belongsOnOrBefore(state.rows, trace, ctx)) continue; // on a later page
    // A page after the first only learns that something newer exists.
    if (ctx.firstPage && ctx.atTop && pending.size === 0) toInsert.push(trace);
    else {
      if (pending === state.pending) pending = new Map(pending);
      pending.set(trace.traceId, trace);
    }
  }
  if (toInsert.length > 0) {
    rows = flushInto(rows, toInsert, ctx);
    fresh = new Set(toInsert.map((t) => t.traceId));
  }
  if (rows === state.rows && pending === state.pending && fresh === state.fresh) return state;
  return { rows, pending, fresh };
}

function flushInto<T extends Sortable>(rows: T[], traces: T[], ctx: MergeContext): T[] {
  // Many at once (a burst): sort the newcomers, then merge the two sorted runs.
  const incoming = [...traces].sort((a, b) => compareTraces(a, b, ctx.sort, ctx.direction));
  if (incoming.length === 1) return insertSorted(rows, incoming[0]!, ctx);
  const merged: T[] = [];
  let i = 0;
  let j = 0;
  while (i < rows.length || j < incoming.length) {
    const row = rows[i];
    const next = incoming[j];
    if (next !== undefined && (row === undefined || compareTraces(next, row, ctx.sort, ctx.direction) < 0)) {
      merged.push(next);
      j++;
    } else if (row !== undefined) {
      merged.push(row);
      i++;
    }
  }
  return merged;
}

/** Shows the held-back traces (the reader asked to, on page 1). */
export function showPending<T extends Sortable>(state: LiveListState<T>, ctx: MergeContext): LiveListState<T> {
  if (state.pending.size === 0) return state;
  const incoming = [...state.pending.values()];
  return {
    rows: flushInto(state.rows, incoming, ctx),
    pending: new Map(),
    fresh: new Set(incoming.map((t) => t.traceId)),
  };
}
