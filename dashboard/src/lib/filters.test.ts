import {
  defaultFilters,
  firstPage,
  hasConditions,
  isoInstant,
  joinKeyValues,
  parseFilters,
  serialiseFilters,
  splitKeyValues,
  splitList,
  toSortInput,
  toTraceFilter,
  type TraceFilters,
} from "./filters";

const CURSOR_A = "WyJTVEFSVF9USU1FOkRFU0MiLCIyMDI2LTExLTI1VDExOjAwOjA0LjUzNzQwMCswMDowMCJd";
const CURSOR_B = "WyJTVEFSVF9USU1FOkRFU0MiLCIyMDI2LTExLTI1VDEwOjU4OjE3Ljg3OTA2OSswMDowMCJd";

function everything(): TraceFilters {
  return {
    search: "support agent",
    range: { kind: "custom", from: "2026-11-24T08:00:00.000Z", to: "2026-11-25T08:30:00.000Z" },
    status: "ERROR",
    kind: "LLM",
    models: ["gpt-4o", "claude-3-5-sonnet"],
    tags: ["vip", "a b&c"],
    tagsMatch: "all",
    userIds: ["user 1", "ü@x.org"],
    sessionIds: ["sess=1"],
    environments: ["prod"],
    metadata: [
      { key: "tenant", value: "acme" },
      { key: "query", value: "a=b&c=d" },
      { key: "empty", value: "" },
    ],
    sort: "COST",
    direction: "ASC",
    pageSize: 100,
    cursors: [CURSOR_A, CURSOR_B],
  };
}

describe("parseFilters", () => {
  it("gives the defaults for an empty query string", () => {
    expect(parseFilters("")).toEqual(defaultFilters());
    expect(serialiseFilters(defaultFilters())).toBe("");
  });

  it("reads every filter, the sort and the page stack", () => {
    const f = parseFilters(
      "q=agent&range=1h&status=OK&kind=TOOL&model=gpt-4o&model=llama&tag=vip&tags=all" +
        "&user=u1&session=s1&env=prod&meta=tenant%3Dacme&sort=duration&dir=asc&size=25" +
        `&after=${CURSOR_A}`,
    );
    expect(f).toEqual({
      search: "agent",
      range: { kind: "preset", preset: "1h" },
      status: "OK",
      kind: "TOOL",
      models: ["gpt-4o", "llama"],
      tags: ["vip"],
      tagsMatch: "all",
      userIds: ["u1"],
      sessionIds: ["s1"],
      environments: ["prod"],
      metadata: [{ key: "tenant", value: "acme" }],
      sort: "DURATION",
      direction: "ASC",
      pageSize: 25,
      cursors: [CURSOR_A],
    });
  });

  it("accepts a leading question mark and URLSearchParams", () => {
    expect(parseFilters("?status=ERROR").status).toBe("ERROR");
    expect(parseFilters(new URLSearchParams("status=ERROR")).status).toBe("ERROR");
  });

  it("drops what it does not understand instead of failing", () => {
    const f = parseFilters(
      "status=BROKEN&kind=llm&range=2y&sort=name&dir=sideways&size=7&tags=some" +
        "&meta=novalue&meta=%3Dnokey&from=yesterday&to=1&unknown=1&q=%20%20",
    );
    expect(f).toEqual(defaultFilters());
    expect(parseFilters("size=abc&size=50").pageSize).toBe(50);
    expect(parseFilters("from=99999-01-01T00:00:00Z").range).toEqual({ kind: "all" });
    expect(parseFilters("from=1960-01-01T00:00:00Z").range).toEqual({ kind: "all" });
  });

  it("starts again at page 1 when a cursor in the stack is not one the API makes", () => {
    expect(parseFilters(`after=${CURSOR_A}&after=not%20a%20cursor`).cursors).toEqual([]);
    expect(parseFilters("after=").cursors).toEqual([]);
    expect(parseFilters(`after=${CURSOR_A}&after=${CURSOR_B}`).cursors).toEqual([CURSOR_A, CURSOR_B]);
  });

  it("trims, dedupes and bounds lists", () => {
    const many = Array.from({ length: 50 }, (_, i) => `model=m${i}`).join("&");
    expect(parseFilters(many).models).toHaveLength(20);
    expect(parseFilters("user=%20a%20&user=a&user=&user=b").userIds).toEqual(["a", "b"]);
    expect(parseFilters("meta=k%3Dv&meta=k%3Dv&meta=%20k2%20%3D%20v2%20").metadata).toEqual([
      { key: "k", value: "v" },
      { key: "k2", value: "v2" },
    ]);
    expect(parseFilters(`q=${"x".repeat(2000)}`).search).toHaveLength(500);
  });

  it("splits metadata at the first equals sign", () => {
    expect(parseFilters("meta=url%3Da%3Db").metadata).toEqual([{ key: "url", value: "a=b" }]);
  });

  it("reads a custom range from either bound, normalised to UTC", () => {
    expect(parseFilters("from=2026-11-25T10:00:00%2B02:00").range).toEqual({
      kind: "custom",
      from: "2026-11-25T08:00:00.000Z",
      to: null,
    });
    expect(parseFilters("range=custom").range).toEqual({ kind: "custom", from: null, to: null });
    // Bounds win over a preset given with them.
    expect(parseFilters("range=1h&to=2026-11-25T10:00:00Z").range.kind).toBe("custom");
  });
});

describe("serialiseFilters", () => {
  it("round-trips every filter exactly, odd characters included", () => {
    const f = everything();
    const query = serialiseFilters(f);
    expect(parseFilters(query)).toEqual(f);
    expect(serialiseFilters(parseFilters(query))).toBe(query);
  });

  it("writes a canonical string that survives a parse unchanged", () => {
    for (const query of [
      "q=agent",
      "range=24h&status=RUNNING",
      "range=custom&from=2026-11-24T08%3A00%3A00.000Z",
      "kind=AGENT&model=gpt-4o&tag=vip&tag=beta&tags=all",
      "user=u1&session=s1&env=prod&meta=tenant%3Dacme",
      "sort=tokens&dir=asc&size=200",
      `after=${CURSOR_A}&after=${CURSOR_B}`,
    ]) {
      expect(serialiseFilters(parseFilters(query))).toBe(query);
    }
  });

  it("round-trips every preset and sort", () => {
    for (const preset of ["15m", "1h", "6h", "24h", "7d", "30d"] as const) {
      const f = { ...defaultFilters(), range: { kind: "preset", preset } as const };
      expect(parseFilters(serialiseFilters(f))).toEqual(f);
    }
    for (const sort of ["START_TIME", "DURATION", "COST", "TOKENS"] as const) {
      for (const direction of ["ASC", "DESC"] as const) {
        const f = { ...defaultFilters(), sort, direction };
        expect(parseFilters(serialiseFilters(f))).toEqual(f);
      }
    }
  });

  it("leaves defaults out of the URL", () => {
    expect(serialiseFilters({ ...defaultFilters(), sort: "START_TIME", direction: "DESC" })).toBe("");
  });
});

describe("toTraceFilter", () => {
  const now = new Date("2026-11-25T12:00:00.000Z");

  it("is null when nothing narrows the list", () => {
    expect(toTraceFilter(defaultFilters(), now)).toBeNull();
    expect(toTraceFilter({ ...defaultFilters(), sort: "COST", cursors: [CURSOR_A] }, now)).toBeNull();
  });

  it("builds the API's TraceFilter", () => {
    expect(toTraceFilter(everything(), now)).toEqual({
      timeRange: { start: "2026-11-24T08:00:00.000Z", end: "2026-11-25T08:30:00.000Z" },
      status: ["ERROR"],
      name: { contains: "support agent" },
      spanKind: ["LLM"],
      model: ["gpt-4o", "claude-3-5-sonnet"],
      tagsAll: ["vip", "a b&c"],
      metadata: [
        { key: "tenant", value: "acme" },
        { key: "query", value: "a=b&c=d" },
        { key: "empty", value: "" },
      ],
      userId: ["user 1", "ü@x.org"],
      sessionId: ["sess=1"],
      environment: ["prod"],
    });
  });

  it("counts a preset back from now and leaves the end open", () => {
    const f = parseFilters("range=1h&tag=a&tag=b");
    expect(toTraceFilter(f, now)).toEqual({
      timeRange: { start: "2026-11-25T11:00:00.000Z" },
      tagsAny: ["a", "b"],
    });
  });

  it("leaves an open custom bound out", () => {
    expect(toTraceFilter(parseFilters("to=2026-11-25T10:00:00Z"), now)).toEqual({
      timeRange: { end: "2026-11-25T10:00:00.000Z" },
    });
    expect(toTraceFilter(parseFilters("range=custom"), now)).toBeNull();
  });

  it("gives the sort as SortInput", () => {
    expect(toSortInput(parseFilters("sort=cost&dir=asc"))).toEqual({ field: "COST", direction: "ASC" });
    expect(toSortInput(defaultFilters())).toEqual({ field: "START_TIME", direction: "DESC" });
  });
});

describe("helpers", () => {
  it("hasConditions ignores sort and paging", () => {
    expect(hasConditions(defaultFilters())).toBe(false);
    expect(hasConditions({ ...defaultFilters(), sort: "COST", cursors: [CURSOR_A] })).toBe(false);
    expect(hasConditions(parseFilters("status=OK"))).toBe(true);
  });

  it("firstPage drops the page stack only", () => {
    const f = everything();
    expect(firstPage(f)).toEqual({ ...f, cursors: [] });
  });

  it("splits comma lists and key=value lists", () => {
    expect(splitList(" a, b,,a , c ")).toEqual(["a", "b", "c"]);
    expect(splitKeyValues("tenant=acme, bad, v = 1.2 ,=x")).toEqual([
      { key: "tenant", value: "acme" },
      { key: "v", value: "1.2" },
    ]);
    expect(joinKeyValues(splitKeyValues("a=1, b=2"))).toBe("a=1, b=2");
  });

  it("isoInstant accepts dates and instants only", () => {
    expect(isoInstant("2026-11-25")).toBe("2026-11-25T00:00:00.000Z");
    expect(isoInstant("2026-11-25T10:00Z")).toBe("2026-11-25T10:00:00.000Z");
    expect(isoInstant("Nov 25 2026")).toBeNull();
    expect(isoInstant("")).toBeNull();
    expect(isoInstant(null)).toBeNull();
  });
});
