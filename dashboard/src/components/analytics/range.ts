// The analytics page's state (time range, grouping, measure) ↔ the URL query string, and
// what each choice asks the server for. No React here: unit-tested in range.test.ts.
import type { AnalyticsGroupBy, TimeBucket } from "../../gql/graphql";

export const RANGES = {
  "1h": { label: "Last hour", ms: 3_600_000, bucket: "MINUTE" },
  "24h": { label: "Last 24 hours", ms: 86_400_000, bucket: "HOUR" },
  "7d": { label: "Last 7 days", ms: 7 * 86_400_000, bucket: "HOUR" },
  "30d": { label: "Last 30 days", ms: 30 * 86_400_000, bucket: "DAY" },
} as const satisfies Record<string, { label: string; ms: number; bucket: TimeBucket }>;
export type RangeKey = keyof typeof RANGES;

export const GROUPS = {
  none: { label: "None", by: null },
  model: { label: "Model", by: "MODEL" },
  kind: { label: "Span kind", by: "KIND" },
  name: { label: "Span name", by: "NAME" },
} as const satisfies Record<string, { label: string; by: AnalyticsGroupBy | null }>;
export type GroupKey = keyof typeof GROUPS;

export const MEASURES = {
  spans: "Spans",
  errorRate: "Error rate",
  p95: "p95 latency",
  tokens: "Tokens",
  cost: "Cost",
} as const;
export type MeasureKey = keyof typeof MEASURES;

export interface AnalyticsState {
  range: RangeKey;
  group: GroupKey;
  measure: MeasureKey;
}

export const DEFAULT_STATE: AnalyticsState = { range: "24h", group: "none", measure: "spans" };

function pick<K extends string>(value: string | null, choices: Record<K, unknown>, fallback: K): K {
  return value !== null && Object.prototype.hasOwnProperty.call(choices, value) ? (value as K) : fallback;
}

/** The state a query string describes; unknown values fall back to the defaults. */
export function stateFromSearch(search: URLSearchParams): AnalyticsState {
  return {
    range: pick(search.get("range"), RANGES, DEFAULT_STATE.range),
    group: pick(search.get("group"), GROUPS, DEFAULT_STATE.group),
    measure: pick(search.get("measure"), MEASURES, DEFAULT_STATE.measure),
  };
}

/** The query string for `state`, keeping unrelated parameters (e.g. ?project=) and
 * leaving defaults out so that links stay short. */
export function searchFromState(state: AnalyticsState, current: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(current);
  for (const key of ["range", "group", "measure"] as const) {
    if (state[key] === DEFAULT_STATE[key]) next.delete(key);
    else next.set(key, state[key]);
  }
  if (state.group === "none") next.delete("measure");
  return next;
}

const MINUTE = 60_000;

/** The time range and bucket to ask for: the `range` up to `now`, its end rounded up to
 * the next minute so that re-renders within a minute ask the same question (and hit the
 * cache). */
export function timeWindow(range: RangeKey, now: number): { start: string; end: string; bucket: TimeBucket } {
  const end = Math.ceil(now / MINUTE) * MINUTE;
  const { ms, bucket } = RANGES[range];
  return { start: new Date(end - ms).toISOString(), end: new Date(end).toISOString(), bucket };
}

/** Where the time axis is labelled: bucket starts on round times (every 10 minutes, 4
 * hours, local midnight, or every fifth UTC day), about six of them; evenly spaced buckets when too
 * few are round. */
export function timeTicks(values: readonly number[], range: RangeKey): number[] {
  const round = values.filter((ms) => {
    const date = new Date(ms);
    switch (range) {
      case "1h":
        return date.getMinutes() % 10 === 0;
      case "24h":
        return date.getMinutes() === 0 && date.getHours() % 4 === 0;
      case "7d":
        return date.getMinutes() === 0 && date.getHours() === 0;
      case "30d":
        return Math.floor(ms / 86_400_000) % 5 === 0;
    }
  });
  if (round.length >= 3) return round;
  const step = Math.max(1, Math.ceil(values.length / 6));
  return values.filter((_, index) => index % step === 0);
}

/** How a bucket's start is written on the time axis. */
export function tickLabel(ms: number, bucket: TimeBucket, range: RangeKey): string {
  const date = new Date(ms);
  // Day buckets are aligned to UTC midnight: name the UTC day, not the local one.
  if (bucket === "DAY") {
    return date.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  }
  if (range === "7d") return date.toLocaleDateString(undefined, { weekday: "short", day: "numeric" });
  // "4 PM" (or "16") on the hour, "10:20 AM" between.
  if (date.getMinutes() === 0) return date.toLocaleTimeString(undefined, { hour: "numeric" });
  return date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
}

/** The tooltip's title for a bucket: when it starts and ends. */
export function bucketLabel(ms: number, bucket: TimeBucket): string {
  const date = new Date(ms);
  if (bucket === "DAY") {
    return `${date.toLocaleDateString(undefined, {
      weekday: "short",
      month: "short",
      day: "numeric",
      timeZone: "UTC",
    })} (UTC)`;
  }
  const width = bucket === "HOUR" ? 3_600_000 : MINUTE;
  const options: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit" };
  const from = date.toLocaleString(undefined, { month: "short", day: "numeric", ...options });
  return `${from} – ${new Date(ms + width).toLocaleTimeString(undefined, options)}`;
}

/** A short number for an axis: 1.2k, 3.4M. */
export function compactNumber(value: number): string {
  return new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 }).format(value);
}
