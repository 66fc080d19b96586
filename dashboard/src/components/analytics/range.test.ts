import {
  DEFAULT_STATE,
  RANGES,
  searchFromState,
  stateFromSearch,
  timeTicks,
  timeWindow,
  type RangeKey,
} from "./range";
import { niceCeiling } from "./TimeChart";

describe("analytics state ↔ URL", () => {
  it("reads the defaults from an empty or unknown query string", () => {
    expect(stateFromSearch(new URLSearchParams())).toEqual(DEFAULT_STATE);
    expect(stateFromSearch(new URLSearchParams("range=2y&group=toString&measure=__proto__"))).toEqual(DEFAULT_STATE);
  });

  it("round-trips a state, keeps other parameters and leaves defaults out", () => {
    const current = new URLSearchParams("project=UHJvamVjdDox&range=7d");
    const next = searchFromState({ range: "30d", group: "model", measure: "cost" }, current);
    expect(next.toString()).toBe("project=UHJvamVjdDox&range=30d&group=model&measure=cost");
    expect(stateFromSearch(next)).toEqual({ range: "30d", group: "model", measure: "cost" });
    const back = searchFromState(DEFAULT_STATE, next);
    expect(back.toString()).toBe("project=UHJvamVjdDox");
  });

  it("drops the measure when nothing is grouped", () => {
    const next = searchFromState({ range: "1h", group: "none", measure: "cost" }, new URLSearchParams());
    expect(next.toString()).toBe("range=1h");
  });
});

describe("timeWindow", () => {
  const now = Date.parse("2026-03-10T12:34:56.789Z");

  it("ends at the next whole minute, so a re-render asks the same question", () => {
    const a = timeWindow("24h", now);
    const b = timeWindow("24h", now + 2_000);
    expect(a).toEqual(b);
    expect(a.end).toBe("2026-03-10T12:35:00.000Z");
    expect(a.start).toBe("2026-03-09T12:35:00.000Z");
  });

  it("picks a bucket that gives a readable series, well under the server's 1500", () => {
    const width = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };
    const expected: Record<RangeKey, string> = { "1h": "MINUTE", "24h": "HOUR", "7d": "HOUR", "30d": "DAY" };
    for (const range of Object.keys(RANGES) as RangeKey[]) {
      const { start, end, bucket } = timeWindow(range, now);
      expect(bucket).toBe(expected[range]);
      const buckets = (Date.parse(end) - Date.parse(start)) / width[bucket] + 1;
      expect(buckets).toBeGreaterThanOrEqual(24);
      expect(buckets).toBeLessThanOrEqual(200);
    }
  });
});

describe("timeTicks", () => {
  it("labels round times: every fifth day on a 30-day axis, evenly spaced", () => {
    const day = 86_400_000;
    const start = Date.parse("2026-02-08T00:00:00Z");
    const values = Array.from({ length: 31 }, (_, i) => start + i * day);
    const ticks = timeTicks(values, "30d");
    expect(ticks.length).toBeGreaterThanOrEqual(5);
    expect(ticks.length).toBeLessThanOrEqual(7);
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    expect(new Set(gaps)).toEqual(new Set([5 * day]));
  });

  it("falls back to evenly spaced buckets when few are round", () => {
    const values = Array.from({ length: 12 }, (_, i) => Date.parse("2026-02-08T00:01:00Z") + i * 60_000);
    const ticks = timeTicks(values, "24h");
    expect(ticks[0]).toBe(values[0]);
    expect(ticks.length).toBe(6);
  });
});

describe("niceCeiling", () => {
  it("gives a rate axis a round top, never above 100%", () => {
    expect(niceCeiling(0, 1)).toBe(0.01);
    expect(niceCeiling(0.013, 1)).toBe(0.02);
    expect(niceCeiling(0.3, 1)).toBe(0.5);
    expect(niceCeiling(0.5, 1)).toBe(0.5);
    expect(niceCeiling(0.97, 1)).toBe(1);
    expect(niceCeiling(3, 1)).toBe(1);
  });
});
