import { ancestorsOf, buildTree, parentsOf, visibleRows, type TreeSpan } from "./tree";

function span(spanId: string, parentSpanId: string | null, startMs: number): TreeSpan {
  return { spanId, parentSpanId, startMs };
}

const names = (spans: TreeSpan[]) => spans.map((s) => s.spanId);

describe("buildTree", () => {
  it("orders depth first, children by start time, whatever order spans arrive in", () => {
    const tree = buildTree([
      span("c2", "root", 30),
      span("g1", "c1", 15),
      span("root", null, 0),
      span("c1", "root", 10),
      span("c0", "root", 10), // same start as c1: the span id decides
    ]);
    expect(names(tree.order)).toEqual(["root", "c0", "c1", "g1", "c2"]);
    expect(tree.depth).toEqual([0, 1, 1, 2, 1]);
    expect(tree.childCount).toEqual([3, 0, 1, 0, 0]);
    expect(tree.parent.get("g1")).toBe("c1");
    expect(tree.parent.get("root")).toBeNull();
    expect(tree.index.get("c2")).toBe(4);
  });

  it("shows a span whose parent is missing at the root, flagged, with its subtree", () => {
    const tree = buildTree([
      span("root", null, 0),
      span("lost", "never-arrived", 5),
      span("under-lost", "lost", 6),
    ]);
    expect(names(tree.order)).toEqual(["root", "lost", "under-lost"]);
    expect(tree.depth).toEqual([0, 0, 1]);
    expect([...tree.orphans]).toEqual(["lost"]);
  });

  it("places every span of a parent cycle once, without looping", () => {
    const tree = buildTree([
      span("a", "b", 1),
      span("b", "a", 2),
      span("c", "a", 3),
      span("self", "self", 4),
      span("root", null, 0),
    ]);
    expect(names(tree.order).sort()).toEqual(["a", "b", "c", "root", "self"]);
    expect(new Set(names(tree.order)).size).toBe(5);
    // the earliest span of the cycle becomes a root, the rest hangs below it
    expect(names(tree.order)).toEqual(["root", "a", "b", "c", "self"]);
    expect(tree.depth).toEqual([0, 0, 1, 1, 0]);
    expect([...tree.cycles].sort()).toEqual(["a", "self"]);
    expect(tree.orphans.size).toBe(0);
  });

  it("keeps the last copy of a span that arrives twice (a running span that ended)", () => {
    const tree = buildTree([
      { ...span("a", null, 0), note: "running" },
      { ...span("a", null, 0), note: "ended" },
    ]);
    expect(tree.order).toHaveLength(1);
    expect(tree.order[0]).toMatchObject({ note: "ended" });
  });

  it("handles a 20,000-deep chain without recursion", () => {
    const spans = Array.from({ length: 20_000 }, (_, i) => span(`s${i}`, i ? `s${i - 1}` : null, i));
    const tree = buildTree(spans.reverse());
    expect(tree.order).toHaveLength(20_000);
    expect(tree.depth[19_999]).toBe(19_999);
    expect(ancestorsOf(tree, "s3")).toEqual(["s2", "s1", "s0"]);
  });
});

describe("visibleRows", () => {
  const tree = buildTree([
    span("root", null, 0),
    span("a", "root", 1),
    span("a1", "a", 2),
    span("a2", "a", 3),
    span("b", "root", 4),
    span("b1", "b", 5),
  ]);

  it("shows everything when nothing is collapsed", () => {
    const rows = visibleRows(tree, new Set());
    expect(rows.map((r) => r.span.spanId)).toEqual(["root", "a", "a1", "a2", "b", "b1"]);
    expect(rows.map((r) => r.expanded)).toEqual([true, true, false, false, true, false]);
    expect(rows.map((r) => r.hasChildren)).toEqual([true, true, false, false, true, false]);
  });

  it("hides a collapsed span's descendants and nothing else", () => {
    const rows = visibleRows(tree, new Set(["a"]));
    expect(rows.map((r) => r.span.spanId)).toEqual(["root", "a", "b", "b1"]);
    expect(rows[1]).toMatchObject({ hasChildren: true, expanded: false, depth: 1 });
  });

  it("collapsing every parent leaves the roots; a leaf in the set changes nothing", () => {
    expect(visibleRows(tree, new Set(parentsOf(tree))).map((r) => r.span.spanId)).toEqual(["root"]);
    expect(visibleRows(tree, new Set(["a1", "b1"]))).toHaveLength(6);
  });
});
