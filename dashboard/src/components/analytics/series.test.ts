import { groupBars, measureOf, toPoints, type GroupIn } from "./series";

describe("toPoints", () => {
  it("keeps empty buckets as gaps (null), not zeros, and splits tokens", () => {
    const [empty, busy] = toPoints([
      { start: "2026-03-10T10:00:00Z", traceCount: 0, spanCount: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, cost: 0 },
      {
        start: "2026-03-10T11:00:00Z",
        traceCount: 4,
        spanCount: 12,
        traceErrorRate: 0.25,
        errorRate: 0.1,
        traceLatencyP50Ms: 100,
        traceLatencyP95Ms: 900,
        traceLatencyP99Ms: 990,
        inputTokens: 100,
        outputTokens: 20,
        totalTokens: 150,
        cost: 0.5,
      },
    ]);
    expect(empty).toMatchObject({ traces: 0, traceErrorRate: null, p95: null, otherTokens: 0 });
    expect(busy).toMatchObject({
      t: Date.parse("2026-03-10T11:00:00Z"),
      traces: 4,
      spans: 12,
      traceErrorRate: 0.25,
      spanErrorRate: 0.1,
      p50: 100,
      p99: 990,
      otherTokens: 30,
      cost: 0.5,
    });
  });
});

describe("group bars", () => {
  const groups: GroupIn[] = [
    { key: "gpt-4o", spanCount: 10, errorCount: 1, errorRate: 0.1, spanLatencyP95Ms: 800, totalTokens: 500, cost: 0.2 },
    { key: "mini", spanCount: 30, errorCount: 0, errorRate: 0, spanLatencyP95Ms: null, totalTokens: 900, cost: 0.05 },
  ];

  it("sorts by the chosen measure and leaves out groups without it", () => {
    expect(groupBars(groups, "cost").map((g) => g.key)).toEqual(["gpt-4o", "mini"]);
    expect(groupBars(groups, "spans").map((g) => g.key)).toEqual(["mini", "gpt-4o"]);
    expect(groupBars(groups, "p95")).toEqual([{ key: "gpt-4o", value: 800 }]);
    expect(measureOf(groups[1]!, "errorRate")).toBe(0);
  });
});
