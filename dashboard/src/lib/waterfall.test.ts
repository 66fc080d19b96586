import { MIN_BAR_WIDTH, barOf, parseTime, ticks, traceRange } from "./waterfall";

describe("parseTime", () => {
  it("keeps microseconds", () => {
    const base = Date.parse("2026-01-01T00:00:00Z");
    expect(parseTime("2026-01-01T00:00:00.123456+00:00") - base).toBeCloseTo(123.456, 3);
    expect(parseTime("2026-01-01T00:00:00+00:00")).toBe(base);
    expect(parseTime("2026-01-01T01:00:00.5+01:00")).toBe(base + 500);
  });
});

describe("traceRange", () => {
  it("spans the earliest start to the latest end", () => {
    const range = traceRange(
      [
        { startMs: 100, endMs: 200 },
        { startMs: 50, endMs: 120 },
      ],
      10_000,
    );
    expect(range).toEqual({ start: 50, end: 200 });
  });
  it("reaches to now while a span runs", () => {
    expect(traceRange([{ startMs: 100, endMs: null }, { startMs: 0, endMs: 10 }], 500)).toEqual({
      start: 0,
      end: 500,
    });
  });
  it("gives an empty or instant trace a non-zero length", () => {
    expect(traceRange([], 7)).toEqual({ start: 7, end: 8 });
    expect(traceRange([{ startMs: 3, endMs: 3 }], 0)).toEqual({ start: 3, end: 4 });
  });
});

describe("barOf", () => {
  const range = { start: 1000, end: 2000 };
  it("places and sizes bars as fractions of the range", () => {
    const bar = barOf({ startMs: 1250, endMs: 1750 }, range, 0);
    expect(bar.offset).toBeCloseTo(0.25);
    expect(bar.width).toBeCloseTo(0.5);
    expect(bar.running).toBe(false);
    expect(barOf({ startMs: 1000, endMs: 2000 }, range, 0)).toEqual({ offset: 0, width: 1, running: false });
  });
  it("extends a running span to now", () => {
    const bar = barOf({ startMs: 1500, endMs: null }, range, 1900);
    expect(bar.running).toBe(true);
    expect(bar.offset).toBeCloseTo(0.5);
    expect(bar.width).toBeCloseTo(0.4);
  });
  it("never draws a bar thinner than the minimum, nor past the end", () => {
    expect(barOf({ startMs: 1500, endMs: 1500 }, range, 0).width).toBe(MIN_BAR_WIDTH);
    const last = barOf({ startMs: 2000, endMs: 2000 }, range, 0);
    expect(last.width).toBe(MIN_BAR_WIDTH);
    expect(last.offset + last.width).toBeCloseTo(1);
    expect(barOf({ startMs: 1100, endMs: 1100.5 }, range, 0, 0.05).width).toBe(0.05);
  });
  it("clamps spans outside the range", () => {
    const bar = barOf({ startMs: 500, endMs: 3000 }, range, 0);
    expect(bar).toEqual({ offset: 0, width: 1, running: false });
  });
});

describe("ticks", () => {
  it("uses round steps from zero", () => {
    expect(ticks({ start: 0, end: 1000 }, 5).map((t) => t.ms)).toEqual([0, 200, 400, 600, 800, 1000]);
    const found = ticks({ start: 0, end: 7300 }, 4);
    expect(found.map((t) => t.ms)).toEqual([0, 2000, 4000, 6000]);
    expect(found[1]!.offset).toBeCloseTo(2000 / 7300);
  });
});
