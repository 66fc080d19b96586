// The server's analytics answer shaped for the charts. No React here.
import type { MeasureKey } from "./range";

export interface BucketIn {
  start: string;
  traceCount: number;
  spanCount: number;
  traceErrorRate?: number | null;
  errorRate?: number | null;
  traceLatencyP50Ms?: number | null;
  traceLatencyP95Ms?: number | null;
  traceLatencyP99Ms?: number | null;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cost: number;
}

/** One point of every time chart; null where a bucket has nothing to measure (a gap in
 * a line, not a misleading zero). */
export interface Point {
  t: number;
  traces: number;
  spans: number;
  traceErrorRate: number | null;
  spanErrorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  inputTokens: number;
  outputTokens: number;
  /** Tokens a span reported only as a total (neither input nor output). */
  otherTokens: number;
  cost: number;
}

export function toPoints(buckets: readonly BucketIn[]): Point[] {
  return buckets.map((b) => ({
    t: Date.parse(b.start),
    traces: b.traceCount,
    spans: b.spanCount,
    traceErrorRate: b.traceErrorRate ?? null,
    spanErrorRate: b.errorRate ?? null,
    p50: b.traceLatencyP50Ms ?? null,
    p95: b.traceLatencyP95Ms ?? null,
    p99: b.traceLatencyP99Ms ?? null,
    inputTokens: b.inputTokens,
    outputTokens: b.outputTokens,
    otherTokens: Math.max(0, b.totalTokens - b.inputTokens - b.outputTokens),
    cost: b.cost,
  }));
}

export interface GroupIn {
  key: string;
  spanCount: number;
  errorCount: number;
  errorRate?: number | null;
  spanLatencyP50Ms?: number | null;
  spanLatencyP95Ms?: number | null;
  spanLatencyP99Ms?: number | null;
  totalTokens: number;
  cost: number;
}

/** A group's value of the measure the bar chart shows (null: nothing to show). */
export function measureOf(group: GroupIn, measure: MeasureKey): number | null {
  switch (measure) {
    case "spans":
      return group.spanCount;
    case "errorRate":
      return group.errorRate ?? null;
    case "p95":
      return group.spanLatencyP95Ms ?? null;
    case "tokens":
      return group.totalTokens;
    case "cost":
      return group.cost;
  }
}

/** The groups as bars for `measure`, largest first (the server sorts by span count). */
export function groupBars(groups: readonly GroupIn[], measure: MeasureKey): { key: string; value: number }[] {
  return groups
    .map((g) => ({ key: g.key, value: measureOf(g, measure) }))
    .filter((g): g is { key: string; value: number } => g.value !== null)
    .sort((a, b) => b.value - a.value);
}
