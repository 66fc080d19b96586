// Waterfall layout: where each span's bar starts and how wide it is, as fractions of the
// trace's time range, so the view scales them to any width. A running span (no end yet)
// reaches to `now`, and the range stretches with it; a bar never gets thinner than a
// visible minimum.

export interface TimedSpan {
  /** ms since the epoch */
  startMs: number;
  /** ms since the epoch; null while the span runs */
  endMs: number | null;
}

export interface TimeRange {
  start: number;
  end: number;
}

export interface Bar {
  /** Fraction of the range before the bar starts, 0..1. */
  offset: number;
  /** Fraction of the range the bar covers, at least the minimum, offset + width <= 1. */
  width: number;
  running: boolean;
}

/** 0.2% of the width: about 1.5 px of an 800 px waterfall. */
export const MIN_BAR_WIDTH = 0.002;

/** An ISO 8601 time as ms since the epoch, keeping the microseconds the API sends. */
export function parseTime(iso: string): number {
  const ms = Date.parse(iso);
  const micro = /\.\d{3}(\d+)/.exec(iso);
  return micro ? ms + Number(`0.${micro[1]}`) : ms;
}

/** From the earliest start to the latest end (or `now`, while a span runs). */
export function traceRange(spans: Iterable<TimedSpan>, now: number): TimeRange {
  let start = Infinity;
  let end = -Infinity;
  for (const span of spans) {
    if (span.startMs < start) start = span.startMs;
    const last = span.endMs ?? Math.max(now, span.startMs);
    if (last > end) end = last;
  }
  if (start === Infinity) return { start: now, end: now + 1 };
  if (!(end > start)) end = start + 1; // a single instant still gets a scale
  return { start, end };
}

function clamp(value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value;
}

export function barOf(
  span: TimedSpan,
  range: TimeRange,
  now: number,
  minWidth: number = MIN_BAR_WIDTH,
): Bar {
  const length = range.end - range.start;
  const running = span.endMs === null;
  const end = span.endMs ?? Math.max(now, span.startMs);
  let offset = clamp((span.startMs - range.start) / length);
  const width = Math.max(clamp((end - range.start) / length) - offset, Math.min(minWidth, 1));
  if (offset + width > 1) offset = 1 - width; // a thin bar at the very end stays inside
  return { offset, width, running };
}

export interface Tick {
  /** Fraction of the range. */
  offset: number;
  /** ms since the range's start. */
  ms: number;
}

/** Round steps (1, 2 or 5 x 10^n ms) giving about `count` ticks, from 0. */
export function ticks(range: TimeRange, count = 5): Tick[] {
  const length = range.end - range.start;
  if (!(length > 0) || count < 1) return [{ offset: 0, ms: 0 }];
  const raw = length / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const found: Tick[] = [];
  for (let ms = 0; ms <= length + step * 1e-9; ms += step) {
    found.push({ offset: ms / length, ms });
  }
  return found;
}
