import { SpanStore, spansFromOutline, totalsOf, type RawSpan } from "./spans";

const COLUMNS = [
  "spanId", "parentSpanId", "depth", "name", "kind", "status", "startTime", "endTime", "durationMs", "model",
  "totalTokens", "cost",
];

function raw(spanId: string, fields: Partial<RawSpan> = {}): RawSpan {
  return {
    spanId,
    parentSpanId: null,
    name: spanId,
    kind: "TOOL",
    status: "OK",
    startTime: "2026-01-01T00:00:00+00:00",
    endTime: "2026-01-01T00:00:01+00:00",
    durationMs: 1000,
    ...fields,
  };
}

describe("spansFromOutline", () => {
  it("reads rows by column name", () => {
    const spans = spansFromOutline({
      columns: COLUMNS,
      rows: [
        ["a", null, 0, "agent", "AGENT", "OK", "2026-01-01T00:00:00+00:00", null, null, null, null, null],
        ["b", "a", 1, "chat", "LLM", "ERROR", "2026-01-01T00:00:00.5+00:00", "2026-01-01T00:00:01+00:00", 500, "gpt-4o", 42, 0.01],
      ],
    });
    expect(spans).toEqual([
      { spanId: "a", parentSpanId: null, name: "agent", kind: "AGENT", status: "OK", startTime: "2026-01-01T00:00:00+00:00",
        endTime: null, durationMs: null, model: null, totalTokens: null, cost: null },
      { spanId: "b", parentSpanId: "a", name: "chat", kind: "LLM", status: "ERROR", startTime: "2026-01-01T00:00:00.5+00:00",
        endTime: "2026-01-01T00:00:01+00:00", durationMs: 500, model: "gpt-4o", totalTokens: 42, cost: 0.01 },
    ]);
  });

  it("follows the columns' order and skips what it cannot read", () => {
    const spans = spansFromOutline({
      columns: ["startTime", "spanId", "kind"],
      rows: [["2026-01-01T00:00:00+00:00", "x", "NEW_KIND"], ["no span id"], "not a row", [null, "y", "LLM"]],
    });
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ spanId: "x", kind: "SPAN", status: "UNSET", name: "" });
    expect(spansFromOutline(null)).toEqual([]);
    expect(spansFromOutline({ columns: ["name"], rows: [["a"]] })).toEqual([]);
  });
});

describe("SpanStore", () => {
  it("reports a change only when a span is new or different", () => {
    const store = new SpanStore();
    expect(store.merge([raw("a"), raw("b")])).toBe(true);
    expect(store.merge([raw("a"), raw("b")])).toBe(false); // the subscription's replay
    expect(store.merge([raw("b", { status: "ERROR" })])).toBe(true);
    expect(store.spans.get("b")?.status).toBe("ERROR");
    expect(store.spans.get("a")?.startMs).toBe(Date.parse("2026-01-01T00:00:00Z"));
  });

  it("lets a running span end, never un-end", () => {
    const store = new SpanStore();
    store.merge([raw("r", { endTime: null, durationMs: null })]);
    expect(store.spans.get("r")?.endMs).toBeNull();
    expect(store.merge([raw("r")])).toBe(true);
    expect(store.spans.get("r")?.endMs).toBe(Date.parse("2026-01-01T00:00:01Z"));
    expect(store.merge([raw("r", { endTime: null, durationMs: null })])).toBe(false);
    expect(store.spans.get("r")?.endTime).not.toBeNull();
  });
});

describe("totalsOf", () => {
  it("adds up the trace as the server does: tokens and cost of model calls only", () => {
    const store = new SpanStore();
    store.merge([
      raw("a", { kind: "AGENT", totalTokens: 1000, cost: 1 }),
      raw("b", { kind: "LLM", totalTokens: 30, cost: 0.5, status: "ERROR", endTime: "2026-01-01T00:00:03+00:00" }),
      raw("c", { kind: "EMBEDDING", totalTokens: 5, cost: 0.25 }),
    ]);
    expect(totalsOf(store.spans.values())).toEqual({
      spans: 3, errors: 1, running: 0, durationMs: 3000, totalTokens: 35, cost: 0.75, status: "ERROR",
    });
    store.merge([raw("d", { endTime: null })]);
    expect(totalsOf(store.spans.values())).toMatchObject({ running: 1, durationMs: null, status: "RUNNING" });
  });
});
