import {
  compareTraces,
  instantMicros,
  mergeLive,
  showPending,
  type LiveListState,
  type MergeContext,
  type Sortable,
} from "./liveMerge";

function trace(id: string, second: number, extra: Partial<Sortable> = {}): Sortable {
  return {
    traceId: id.padStart(32, "0"),
    startTime: `2026-11-25T10:00:${String(second).padStart(2, "0")}.000000+00:00`,
    durationMs: 100,
    cost: 0,
    totalTokens: 0,
    ...extra,
  };
}

const top: MergeContext = {
  sort: "START_TIME",
  direction: "DESC",
  firstPage: true,
  hasNextPage: true,
  atTop: true,
};

function state(rows: Sortable[]): LiveListState<Sortable> {
  return { rows, pending: new Map(), fresh: new Set() };
}

const ids = (s: LiveListState<Sortable>) => s.rows.map((r) => r.traceId.replace(/^0+/, ""));

describe("instantMicros and compareTraces", () => {
  it("keeps the server's microseconds", () => {
    expect(instantMicros("2026-11-25T10:00:00.000002+00:00") - instantMicros("2026-11-25T10:00:00.000001+00:00")).toBe(1);
    expect(instantMicros("2026-11-25T10:00:00+00:00")).toBe(instantMicros("2026-11-25T10:00:00.000000Z"));
  });

  it("orders like the server: value, then trace id; running traces as the shortest", () => {
    const a = trace("a", 1);
    const b = trace("b", 1);
    expect(compareTraces(a, b, "START_TIME", "ASC")).toBeLessThan(0);
    expect(compareTraces(a, b, "START_TIME", "DESC")).toBeGreaterThan(0);
    const running = trace("c", 1, { durationMs: null });
    expect(compareTraces(running, trace("d", 1, { durationMs: 0 }), "DURATION", "ASC")).toBeLessThan(0);
  });
});

describe("mergeLive", () => {
  const page = state([trace("5", 50), trace("4", 40), trace("3", 30)]);

  it("inserts a new trace at the top of page 1 when the reader is at the top", () => {
    const next = mergeLive(page, [trace("6", 55)], top);
    expect(ids(next)).toEqual(["6", "5", "4", "3"]);
    expect(next.fresh.has(trace("6", 55).traceId)).toBe(true);
    expect(next.pending.size).toBe(0);
  });

  it("inserts a late trace at its sorted place within the page", () => {
    expect(ids(mergeLive(page, [trace("7", 45)], top))).toEqual(["5", "7", "4", "3"]);
  });

  it("merges a burst in order", () => {
    const burst = [trace("a", 51), trace("c", 59), trace("b", 35), trace("d", 58)];
    expect(ids(mergeLive(page, burst, top))).toEqual(["c", "d", "a", "5", "4", "b", "3"]);
  });

  it("updates a shown trace in place, never moving it", () => {
    const next = mergeLive(page, [trace("4", 40, { durationMs: 999, totalTokens: 7 })], {
      ...top,
      sort: "DURATION",
    });
    expect(ids(next)).toEqual(["5", "4", "3"]);
    expect(next.rows[1]!.totalTokens).toBe(7);
    expect(next.fresh.size).toBe(0);
  });

  it("holds new traces back while the reader is scrolled down, and updates them there", () => {
    const away = { ...top, atTop: false };
    let next = mergeLive(page, [trace("6", 55)], away);
    expect(ids(next)).toEqual(["5", "4", "3"]);
    expect(next.pending.size).toBe(1);
    next = mergeLive(next, [trace("6", 55, { totalTokens: 3 })], away);
    expect(next.pending.size).toBe(1);
    // Back at the top, but something is already waiting: newcomers wait with it.
    next = mergeLive(next, [trace("8", 57)], top);
    expect(next.pending.size).toBe(2);
    const shown = showPending(next, top);
    expect(ids(shown)).toEqual(["8", "6", "5", "4", "3"]);
    expect(shown.rows[1]!.totalTokens).toBe(3);
    expect(shown.pending.size).toBe(0);
  });

  it("ignores traces that belong on a later page", () => {
    expect(mergeLive(page, [trace("1", 10)], top)).toBe(page);
  });

  it("adds an older trace at the end of the last page", () => {
    expect(ids(mergeLive(page, [trace("1", 10)], { ...top, hasNextPage: false }))).toEqual([
      "5",
      "4",
      "3",
      "1",
    ]);
  });

  it("on a later page, only counts what is newer than its last row", () => {
    const later = { ...top, firstPage: false };
    const next = mergeLive(page, [trace("9", 59), trace("1", 10)], later);
    expect(ids(next)).toEqual(["5", "4", "3"]);
    expect([...next.pending.keys()]).toEqual([trace("9", 59).traceId]);
  });

  it("inserts by the list's sort, not by arrival", () => {
    const byCost = state([trace("a", 1, { cost: 3 }), trace("b", 2, { cost: 1 })]);
    const ctx: MergeContext = { ...top, sort: "COST", hasNextPage: false };
    expect(ids(mergeLive(byCost, [trace("c", 3, { cost: 2 })], ctx))).toEqual(["a", "c", "b"]);
    const asc: MergeContext = { ...ctx, direction: "ASC" };
    const ascending = state([trace("b", 2, { cost: 1 }), trace("a", 1, { cost: 3 })]);
    expect(ids(mergeLive(ascending, [trace("c", 3, { cost: 2 })], asc))).toEqual(["b", "c", "a"]);
  });

  it("fills an empty first page", () => {
    expect(ids(mergeLive(state([]), [trace("1", 1), trace("2", 2)], top))).toEqual(["2", "1"]);
  });

  it("returns the same state for an empty batch", () => {
    expect(mergeLive(page, [], top)).toBe(page);
  });
});
