// The agent graph of a trace: who called whom among agents, tools, LLM calls and
// retrievers. Other spans (chains, plain spans...) are looked through: a tool called from
// a chain inside an agent is the agent's call. Calls of the same agent, tool, model or
// retriever are one node with a count, and an edge counts how often its caller made it.
import type { SpanKind, SpanStatus } from "../../gql/graphql";
import type { SpanTree, TreeSpan } from "../../lib/tree";

export const GRAPH_KINDS: ReadonlySet<SpanKind> = new Set<SpanKind>(["AGENT", "TOOL", "LLM", "RETRIEVER"]);

export interface GraphSpan extends TreeSpan {
  name: string;
  kind: SpanKind;
  status: SpanStatus;
  model: string | null;
}

export interface GraphNode {
  id: string;
  kind: SpanKind;
  label: string;
  /** How many spans this node stands for. */
  count: number;
  errors: number;
  /** The earliest of them, to select. */
  firstSpanId: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  count: number;
}

export interface AgentGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

function labelOf(span: GraphSpan): string {
  return span.kind === "LLM" && span.model ? span.model : span.name;
}

export function agentGraph<S extends GraphSpan>(tree: SpanTree<S>): AgentGraph {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  // The node of each span's nearest graph-kind ancestor-or-self; tree order puts parents first.
  const nodeOf = new Map<string, string | null>();
  for (const span of tree.order) {
    const parent = tree.parent.get(span.spanId) ?? null;
    const above = parent === null ? null : nodeOf.get(parent) ?? null;
    if (!GRAPH_KINDS.has(span.kind)) {
      nodeOf.set(span.spanId, above);
      continue;
    }
    const label = labelOf(span);
    const id = `${span.kind}:${label}`;
    let node = nodes.get(id);
    if (!node) {
      node = { id, kind: span.kind, label, count: 0, errors: 0, firstSpanId: span.spanId };
      nodes.set(id, node);
    }
    node.count++;
    if (span.status === "ERROR") node.errors++;
    nodeOf.set(span.spanId, id);
    if (above !== null) {
      const key = `${above}\u0000${id}`;
      const edge = edges.get(key);
      if (edge) edge.count++;
      else edges.set(key, { from: above, to: id, count: 1 });
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}
