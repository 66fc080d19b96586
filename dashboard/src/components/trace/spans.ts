// The spans of the open trace, in outline, keyed by span id: filled by the trace query,
// then by the live subscription (which sends every stored span again first, then each
// span as it is stored or changes).
import type { SpanKind, SpanStatus } from "../../gql/graphql";
import type { TreeSpan } from "../../lib/tree";
import { parseTime, type TimedSpan } from "../../lib/waterfall";

/** A span as the trace query and the subscription send it. */
export interface RawSpan {
  spanId: string;
  parentSpanId?: string | null;
  name: string;
  kind: SpanKind;
  status: SpanStatus;
  startTime: string;
  endTime?: string | null;
  durationMs?: number | null;
  model?: string | null;
  totalTokens?: number | null;
  cost?: number | null;
}

export interface OutlineSpan extends TreeSpan, TimedSpan {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: SpanKind;
  status: SpanStatus;
  startTime: string;
  endTime: string | null;
  durationMs: number | null;
  model: string | null;
  totalTokens: number | null;
  cost: number | null;
}

export function toOutline(raw: RawSpan): OutlineSpan {
  const endTime = raw.endTime ?? null;
  return {
    spanId: raw.spanId,
    parentSpanId: raw.parentSpanId ?? null,
    name: raw.name,
    kind: raw.kind,
    status: raw.status,
    startTime: raw.startTime,
    endTime,
    durationMs: raw.durationMs ?? null,
    model: raw.model ?? null,
    totalTokens: raw.totalTokens ?? null,
    cost: raw.cost ?? null,
    startMs: parseTime(raw.startTime),
    endMs: endTime === null ? null : parseTime(endTime),
  };
}

function same(a: OutlineSpan, b: RawSpan): boolean {
  return (
    a.endTime === (b.endTime ?? null) &&
    a.status === b.status &&
    a.startTime === b.startTime &&
    a.parentSpanId === (b.parentSpanId ?? null) &&
    a.name === b.name &&
    a.kind === b.kind &&
    a.durationMs === (b.durationMs ?? null) &&
    a.model === (b.model ?? null) &&
    a.totalTokens === (b.totalTokens ?? null) &&
    a.cost === (b.cost ?? null)
  );
}

const KINDS = new Set<string>([
  "AGENT", "LLM", "TOOL", "CHAIN", "RETRIEVER", "EMBEDDING", "RERANKER", "GUARDRAIL", "EVALUATOR", "SPAN",
]);
const STATUSES = new Set<string>(["UNSET", "OK", "ERROR"]);

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function number(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * The spans of Trace.spanOutline ({columns, rows}: each row a span's values in the order
 * of `columns`). Columns are looked up by name, so their order may change; a row without
 * a span id or start time is skipped.
 */
export function spansFromOutline(outline: unknown): RawSpan[] {
  if (typeof outline !== "object" || outline === null) return [];
  const { columns, rows } = outline as { columns?: unknown; rows?: unknown };
  if (!Array.isArray(columns) || !Array.isArray(rows)) return [];
  const at = (name: string) => columns.indexOf(name);
  const [id, parent, name, kind, status, start, end, duration, model, tokens, cost] = [
    "spanId", "parentSpanId", "name", "kind", "status", "startTime", "endTime", "durationMs", "model",
    "totalTokens", "cost",
  ].map(at) as [number, number, number, number, number, number, number, number, number, number, number];
  if (id < 0 || start < 0) return [];
  const spans: RawSpan[] = [];
  for (const row of rows) {
    if (!Array.isArray(row)) continue;
    const spanId = text(row[id]);
    const startTime = text(row[start]);
    if (spanId === null || startTime === null) continue;
    const kindValue = text(row[kind]) ?? "SPAN";
    const statusValue = text(row[status]) ?? "UNSET";
    spans.push({
      spanId,
      parentSpanId: text(row[parent]),
      name: text(row[name]) ?? "",
      kind: (KINDS.has(kindValue) ? kindValue : "SPAN") as SpanKind,
      status: (STATUSES.has(statusValue) ? statusValue : "UNSET") as SpanStatus,
      startTime,
      endTime: text(row[end]),
      durationMs: number(row[duration]),
      model: text(row[model]),
      totalTokens: number(row[tokens]),
      cost: number(row[cost]),
    });
  }
  return spans;
}

export class SpanStore {
  readonly spans = new Map<string, OutlineSpan>();

  /**
   * Merges spans; true if anything changed. A span seen again unchanged (the
   * subscription's replay of stored spans) costs a comparison; an ended span never goes
   * back to running because an older copy arrives late.
   */
  merge(batch: Iterable<RawSpan>): boolean {
    let changed = false;
    for (const raw of batch) {
      const known = this.spans.get(raw.spanId);
      if (known) {
        if (known.endTime !== null && !raw.endTime) continue;
        if (same(known, raw)) continue;
      }
      this.spans.set(raw.spanId, toOutline(raw));
      changed = true;
    }
    return changed;
  }
}

export interface TraceTotals {
  spans: number;
  errors: number;
  running: number;
  /** ms; null while a span runs */
  durationMs: number | null;
  totalTokens: number;
  cost: number;
  status: "OK" | "ERROR" | "RUNNING";
}

const MODEL_CALLS = new Set<SpanKind>(["LLM", "EMBEDDING"]);

/** What the trace adds up to, from its spans (tokens and cost of model calls only, as the server counts them). */
export function totalsOf(spans: Iterable<OutlineSpan>): TraceTotals {
  let count = 0;
  let errors = 0;
  let running = 0;
  let start = Infinity;
  let end = -Infinity;
  let totalTokens = 0;
  let cost = 0;
  for (const span of spans) {
    count++;
    if (span.status === "ERROR") errors++;
    if (span.endMs === null) running++;
    else if (span.endMs > end) end = span.endMs;
    if (span.startMs < start) start = span.startMs;
    if (MODEL_CALLS.has(span.kind)) {
      totalTokens += span.totalTokens ?? 0;
      cost += span.cost ?? 0;
    }
  }
  return {
    spans: count,
    errors,
    running,
    durationMs: running > 0 || count === 0 ? null : Math.max(0, end - start),
    totalTokens,
    cost,
    status: running > 0 ? "RUNNING" : errors > 0 ? "ERROR" : "OK",
  };
}
