import { buildTree } from "../../lib/tree";
import { agentGraph, type GraphSpan } from "./agentGraph";

let clock = 0;
function span(spanId: string, parentSpanId: string | null, kind: GraphSpan["kind"], name: string, extra: Partial<GraphSpan> = {}): GraphSpan {
  return { spanId, parentSpanId, kind, name, status: "OK", model: null, startMs: clock++, ...extra };
}

describe("agentGraph", () => {
  it("merges repeated calls, counts them, and looks through chains", () => {
    const tree = buildTree([
      span("root", null, "AGENT", "planner"),
      span("l1", "root", "LLM", "ChatCompletion", { model: "gpt-4o" }),
      span("chain", "root", "CHAIN", "step"),
      span("t1", "chain", "TOOL", "search"),
      span("t2", "root", "TOOL", "search", { status: "ERROR" }),
      span("l2", "root", "LLM", "ChatCompletion", { model: "gpt-4o" }),
      span("sub", "chain", "AGENT", "critic"),
      span("r1", "t1", "RETRIEVER", "retrieve"),
      span("l3", "sub", "LLM", "ChatCompletion", { model: "claude" }),
    ]);
    const graph = agentGraph(tree);
    const nodes = Object.fromEntries(graph.nodes.map((n) => [n.id, [n.count, n.errors]]));
    expect(nodes).toEqual({
      "AGENT:planner": [1, 0],
      "LLM:gpt-4o": [2, 0],
      "TOOL:search": [2, 1],
      "AGENT:critic": [1, 0],
      "RETRIEVER:retrieve": [1, 0],
      "LLM:claude": [1, 0],
    });
    const edges = Object.fromEntries(graph.edges.map((e) => [`${e.from} -> ${e.to}`, e.count]));
    expect(edges).toEqual({
      "AGENT:planner -> LLM:gpt-4o": 2,
      "AGENT:planner -> TOOL:search": 2, // one of them through the chain
      "AGENT:planner -> AGENT:critic": 1,
      "TOOL:search -> RETRIEVER:retrieve": 1,
      "AGENT:critic -> LLM:claude": 1,
    });
    expect(graph.nodes.find((n) => n.id === "TOOL:search")?.firstSpanId).toBe("t1");
  });

  it("starts from the graph-kind spans nearest the top when the root is not one", () => {
    const tree = buildTree([span("c", null, "CHAIN", "pipeline"), span("a", "c", "AGENT", "x"), span("b", "c", "TOOL", "y")]);
    const graph = agentGraph(tree);
    expect(graph.nodes.map((n) => n.id)).toEqual(["AGENT:x", "TOOL:y"]);
    expect(graph.edges).toEqual([]);
  });
});
