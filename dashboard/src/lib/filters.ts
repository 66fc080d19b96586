// The trace list's filters, sort and page as a URL query string, and as the GraphQL
// TraceFilter / SortInput the API takes. Parsing is tolerant (anything it does not
// understand is dropped, never an error); serialising writes a canonical string, so
// parse(serialise(f)) equals f and serialise(parse(s)) equals s for every canonical s.
//
//   q=agent&range=1h&status=ERROR&kind=LLM&model=gpt-4o&tag=vip&tags=all&user=u1
//   &session=s1&env=prod&meta=tenant%3Dacme&sort=cost&dir=asc&size=100&after=<c1>&after=<c2>
//
// `after` is the stack of page cursors: none on page 1, one per page turned since.

export const TRACE_STATUSES = ["OK", "ERROR", "RUNNING"] as const;
export type TraceStatusValue = (typeof TRACE_STATUSES)[number];

export const SPAN_KINDS = [
  "AGENT",
  "LLM",
  "TOOL",
  "CHAIN",
  "RETRIEVER",
  "EMBEDDING",
  "RERANKER",
  "GUARDRAIL",
  "EVALUATOR",
  "SPAN",
] as const;
export type SpanKindValue = (typeof SPAN_KINDS)[number];

export const SORT_FIELDS = ["START_TIME", "DURATION", "COST", "TOKENS"] as const;
export type SortFieldValue = (typeof SORT_FIELDS)[number];
export type SortDirectionValue = "ASC" | "DESC";

/** Relative time ranges, each its length in ms. */
export const RANGE_PRESETS = {
  "15m": 15 * 60_000,
  "1h": 60 * 60_000,
  "6h": 6 * 60 * 60_000,
  "24h": 24 * 60 * 60_000,
  "7d": 7 * 24 * 60 * 60_000,
  "30d": 30 * 24 * 60 * 60_000,
} as const;
export type RangePreset = keyof typeof RANGE_PRESETS;

export const RANGE_LABELS: Record<RangePreset, string> = {
  "15m": "Last 15 minutes",
  "1h": "Last hour",
  "6h": "Last 6 hours",
  "24h": "Last 24 hours",
  "7d": "Last 7 days",
  "30d": "Last 30 days",
};

export type TimeRange =
  | { kind: "all" }
  | { kind: "preset"; preset: RangePreset }
  /** ISO 8601 instants (UTC, as Date.toISOString writes them); either may be open. */
  | { kind: "custom"; from: string | null; to: string | null };

export const PAGE_SIZES = [25, 50, 100, 200] as const;
export const DEFAULT_PAGE_SIZE = 50;

export interface KeyValue {
  key: string;
  value: string;
}

export interface TraceFilters {
  /** Text search: the trace's name contains it (case-insensitive). */
  search: string;
  range: TimeRange;
  status: TraceStatusValue | null;
  kind: SpanKindValue | null;
  models: string[];
  tags: string[];
  /** Whether a trace needs any one of `tags` or all of them. */
  tagsMatch: "any" | "all";
  userIds: string[];
  sessionIds: string[];
  environments: string[];
  metadata: KeyValue[];
  sort: SortFieldValue;
  direction: SortDirectionValue;
  pageSize: number;
  /** The cursors of the pages turned: empty on page 1. */
  cursors: string[];
}

export const DEFAULT_FILTERS: TraceFilters = Object.freeze({
  search: "",
  range: { kind: "all" },
  status: null,
  kind: null,
  models: [],
  tags: [],
  tagsMatch: "any",
  userIds: [],
  sessionIds: [],
  environments: [],
  metadata: [],
  sort: "START_TIME",
  direction: "DESC",
  pageSize: DEFAULT_PAGE_SIZE,
  cursors: [],
}) as TraceFilters;

export function defaultFilters(): TraceFilters {
  return { ...DEFAULT_FILTERS, range: { kind: "all" } };
}

// Bounds on what a URL may make us send: a hostile link cannot build a huge request.
const MAX_TEXT = 500;
const MAX_VALUES = 20;
const MAX_CURSORS = 200;
const CURSOR = /^[A-Za-z0-9_-]{1,1000}$/;

const SORT_PARAM: Record<SortFieldValue, string> = {
  START_TIME: "start",
  DURATION: "duration",
  COST: "cost",
  TOKENS: "tokens",
};

function oneOf<T extends string>(values: readonly T[], value: string | null): T | null {
  return value !== null && (values as readonly string[]).includes(value) ? (value as T) : null;
}

function text(value: string | null): string {
  return (value ?? "").trim().slice(0, MAX_TEXT);
}

/** Distinct non-empty trimmed values, in first-seen order, at most MAX_VALUES. */
function list(values: string[]): string[] {
  const seen: string[] = [];
  for (const raw of values) {
    const value = text(raw);
    if (value && !seen.includes(value)) seen.push(value);
    if (seen.length === MAX_VALUES) break;
  }
  return seen;
}

/** An instant as a canonical ISO string, or null when it is not one. */
export function isoInstant(value: string | null | undefined): string | null {
  if (!value || !/^\d{4}-\d{2}-\d{2}(T|$)/.test(value.trim())) return null;
  const ms = Date.parse(value.trim());
  if (!Number.isFinite(ms)) return null;
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  // The API takes years 1970 to 9000.
  if (year < 1970 || year > 9000) return null;
  return date.toISOString();
}

/** "key=value" → {key, value}; the first "=" splits, so values may hold "=". */
export function parseKeyValue(raw: string): KeyValue | null {
  const at = raw.indexOf("=");
  if (at <= 0) return null;
  const key = raw.slice(0, at).trim().slice(0, MAX_TEXT);
  const value = raw.slice(at + 1).trim().slice(0, MAX_TEXT);
  return key ? { key, value } : null;
}

export function parseFilters(search: string | URLSearchParams): TraceFilters {
  const params = typeof search === "string" ? new URLSearchParams(search) : search;
  const filters = defaultFilters();
  filters.search = text(params.get("q"));

  const from = isoInstant(params.get("from"));
  const to = isoInstant(params.get("to"));
  const range = params.get("range");
  if (range === "custom" || from !== null || to !== null) {
    filters.range = { kind: "custom", from, to };
  } else if (range !== null && Object.hasOwn(RANGE_PRESETS, range)) {
    filters.range = { kind: "preset", preset: range as RangePreset };
  }

  filters.status = oneOf(TRACE_STATUSES, params.get("status"));
  filters.kind = oneOf(SPAN_KINDS, params.get("kind"));
  filters.models = list(params.getAll("model"));
  filters.tags = list(params.getAll("tag"));
  filters.tagsMatch = params.get("tags") === "all" ? "all" : "any";
  filters.userIds = list(params.getAll("user"));
  filters.sessionIds = list(params.getAll("session"));
  filters.environments = list(params.getAll("env"));

  const metadata: KeyValue[] = [];
  for (const raw of params.getAll("meta")) {
    const pair = parseKeyValue(raw);
    if (pair && !metadata.some((m) => m.key === pair.key && m.value === pair.value)) {
      metadata.push(pair);
    }
    if (metadata.length === MAX_VALUES) break;
  }
  filters.metadata = metadata;

  const sort = params.get("sort");
  const field = (Object.keys(SORT_PARAM) as SortFieldValue[]).find((f) => SORT_PARAM[f] === sort);
  filters.sort = field ?? "START_TIME";
  const dir = params.get("dir");
  filters.direction = dir === "asc" ? "ASC" : dir === "desc" ? "DESC" : "DESC";

  const size = Number(params.get("size"));
  filters.pageSize = (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_PAGE_SIZE;

  const cursors = params.getAll("after");
  // A page stack with a bad cursor in it cannot be followed: start again at page 1.
  filters.cursors =
    cursors.length <= MAX_CURSORS && cursors.every((c) => CURSOR.test(c)) ? cursors : [];
  return filters;
}

export function serialiseFilters(filters: TraceFilters): string {
  const params = new URLSearchParams();
  if (filters.search.trim()) params.set("q", filters.search.trim());
  const range = filters.range;
  if (range.kind === "preset") params.set("range", range.preset);
  if (range.kind === "custom") {
    params.set("range", "custom");
    if (range.from) params.set("from", range.from);
    if (range.to) params.set("to", range.to);
  }
  if (filters.status) params.set("status", filters.status);
  if (filters.kind) params.set("kind", filters.kind);
  filters.models.forEach((m) => params.append("model", m));
  filters.tags.forEach((t) => params.append("tag", t));
  if (filters.tagsMatch === "all") params.set("tags", "all");
  filters.userIds.forEach((u) => params.append("user", u));
  filters.sessionIds.forEach((s) => params.append("session", s));
  filters.environments.forEach((e) => params.append("env", e));
  filters.metadata.forEach((m) => params.append("meta", `${m.key}=${m.value}`));
  if (filters.sort !== "START_TIME") params.set("sort", SORT_PARAM[filters.sort]);
  if (filters.direction !== "DESC") params.set("dir", "asc");
  if (filters.pageSize !== DEFAULT_PAGE_SIZE) params.set("size", String(filters.pageSize));
  filters.cursors.forEach((c) => params.append("after", c));
  return params.toString();
}

/** Whether any condition narrows the list (sort and page aside). */
export function hasConditions(filters: TraceFilters): boolean {
  return (
    filters.search.trim() !== "" ||
    filters.range.kind !== "all" ||
    filters.status !== null ||
    filters.kind !== null ||
    filters.models.length > 0 ||
    filters.tags.length > 0 ||
    filters.userIds.length > 0 ||
    filters.sessionIds.length > 0 ||
    filters.environments.length > 0 ||
    filters.metadata.length > 0
  );
}

/** The same conditions and sort, back on page 1 (any change of filter or sort does this). */
export function firstPage(filters: TraceFilters): TraceFilters {
  return { ...filters, cursors: [] };
}

/** Comma-separated text as a list ("a, b,,c" → ["a", "b", "c"]). */
export function splitList(value: string): string[] {
  return list(value.split(","));
}

/** "k=v, k2=v2" → pairs; parts without a key are dropped. */
export function splitKeyValues(value: string): KeyValue[] {
  const pairs: KeyValue[] = [];
  for (const part of value.split(",")) {
    const pair = parseKeyValue(part);
    if (pair && !pairs.some((p) => p.key === pair.key && p.value === pair.value)) pairs.push(pair);
    if (pairs.length === MAX_VALUES) break;
  }
  return pairs;
}

export function joinKeyValues(pairs: KeyValue[]): string {
  return pairs.map((p) => `${p.key}=${p.value}`).join(", ");
}

// GraphQL input shapes (structurally the generated TraceFilter / SortInput).
export interface TraceFilterInput {
  timeRange?: { start?: string; end?: string };
  status?: TraceStatusValue[];
  name?: { contains: string };
  spanKind?: SpanKindValue[];
  model?: string[];
  tagsAny?: string[];
  tagsAll?: string[];
  metadata?: KeyValue[];
  userId?: string[];
  sessionId?: string[];
  environment?: string[];
}

export interface SortInputValue {
  field: SortFieldValue;
  direction: SortDirectionValue;
}

/** The time range as absolute bounds, a preset counted back from `now`. */
export function timeBounds(range: TimeRange, now: Date): { start?: string; end?: string } | null {
  if (range.kind === "preset") {
    return { start: new Date(now.getTime() - RANGE_PRESETS[range.preset]).toISOString() };
  }
  if (range.kind === "custom" && (range.from || range.to)) {
    const bounds: { start?: string; end?: string } = {};
    if (range.from) bounds.start = range.from;
    if (range.to) bounds.end = range.to;
    return bounds;
  }
  return null;
}

/** The GraphQL TraceFilter for these filters; null when nothing narrows the list. */
export function toTraceFilter(filters: TraceFilters, now: Date = new Date()): TraceFilterInput | null {
  const input: TraceFilterInput = {};
  const bounds = timeBounds(filters.range, now);
  if (bounds) input.timeRange = bounds;
  if (filters.status) input.status = [filters.status];
  const search = filters.search.trim();
  if (search) input.name = { contains: search };
  if (filters.kind) input.spanKind = [filters.kind];
  if (filters.models.length) input.model = [...filters.models];
  if (filters.tags.length) {
    if (filters.tagsMatch === "all") input.tagsAll = [...filters.tags];
    else input.tagsAny = [...filters.tags];
  }
  if (filters.metadata.length) input.metadata = filters.metadata.map((m) => ({ ...m }));
  if (filters.userIds.length) input.userId = [...filters.userIds];
  if (filters.sessionIds.length) input.sessionId = [...filters.sessionIds];
  if (filters.environments.length) input.environment = [...filters.environments];
  return Object.keys(input).length > 0 ? input : null;
}

export function toSortInput(filters: TraceFilters): SortInputValue {
  return { field: filters.sort, direction: filters.direction };
}
