// The agent graph, laid out by dagre and drawn as SVG. Each node is a button that
// selects the first span it stands for.
import "./trace.css";
import dagre from "@dagrejs/dagre";
import { useMemo, type KeyboardEvent } from "react";
import type { SpanTree } from "../../lib/tree";
import { agentGraph, type GraphEdge, type GraphNode } from "./agentGraph";
import type { OutlineSpan } from "./spans";

const NODE_HEIGHT = 46;
const CHAR_WIDTH = 7.8;
const MAX_NODES = 400;

interface Position {
  x: number;
  y: number;
  width: number;
}

interface Layout {
  nodes: Map<string, Position>;
  edges: Map<string, { x: number; y: number }[]>;
  width: number;
  height: number;
}

const edgeKey = (edge: GraphEdge) => `${edge.from}\u0000${edge.to}`;

/** Positions for the graph's shape (nodes and edges, not their counts). */
function layoutOf(nodes: GraphNode[], edges: GraphEdge[]): Layout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 16, ranksep: 64, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) {
    const text = Math.max(node.label.length, node.kind.length + 14);
    g.setNode(node.id, { width: Math.min(280, 28 + text * CHAR_WIDTH), height: NODE_HEIGHT });
  }
  for (const edge of edges) g.setEdge(edge.from, edge.to);
  dagre.layout(g);
  const size = g.graph();
  const placed = new Map<string, Position>();
  for (const node of nodes) {
    const at = g.node(node.id);
    placed.set(node.id, { x: at.x ?? 0, y: at.y ?? 0, width: at.width });
  }
  const routed = new Map<string, { x: number; y: number }[]>();
  for (const edge of edges) routed.set(edgeKey(edge), g.edge(edge.from, edge.to)?.points ?? []);
  return { nodes: placed, edges: routed, width: Math.max(1, size.width ?? 1), height: Math.max(1, size.height ?? 1) };
}

function pathOf(points: { x: number; y: number }[]): string {
  if (points.length === 0) return "";
  const [first, ...rest] = points;
  return `M${first!.x},${first!.y}` + rest.map((p) => ` L${p.x},${p.y}`).join("");
}

interface Props {
  tree: SpanTree<OutlineSpan>;
  selectedId: string | null;
  onSelect(spanId: string): void;
}

export function AgentGraph({ tree, selectedId, onSelect }: Props) {
  const graph = useMemo(() => agentGraph(tree), [tree]);
  const nodes = graph.nodes.slice(0, MAX_NODES);
  const kept = new Set(nodes.map((n) => n.id));
  const edges = graph.edges.filter((e) => kept.has(e.from) && kept.has(e.to));
  // Laid out again only when the shape changes: a live span of a known tool only counts.
  const shape = nodes.map((n) => n.id).join("\n") + "\u0001" + edges.map(edgeKey).join("\n");
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const layout = useMemo(() => layoutOf(nodes, edges), [shape]);
  const selectedNode = useMemo(() => {
    if (selectedId === null) return null;
    const span = tree.order[tree.index.get(selectedId) ?? -1];
    if (!span) return null;
    return `${span.kind}:${span.kind === "LLM" && span.model ? span.model : span.name}`;
  }, [tree, selectedId]);
  const labelEdges = edges.length <= 40;

  const onKey = (event: KeyboardEvent, node: GraphNode) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      onSelect(node.firstSpanId);
    }
  };

  return (
    <section className="agent-graph card" aria-label="Agent graph">
      {nodes.length === 0 ? (
        <p className="muted">No agent, tool, LLM or retriever spans in this trace.</p>
      ) : (
        <>
          <p className="muted graph-note">
            {graph.nodes.length.toLocaleString()} {graph.nodes.length === 1 ? "node" : "nodes"},{" "}
            {graph.edges.length.toLocaleString()} {graph.edges.length === 1 ? "edge" : "edges"}: calls of the same
            agent, tool, model or retriever are one node; spans of other kinds in between are left out.
            {graph.nodes.length > nodes.length && ` Showing the first ${nodes.length}.`}
          </p>
          <div className="graph-scroll">
            <svg
              viewBox={`0 0 ${layout.width} ${layout.height}`}
              className="graph-svg"
              // Shrinks to fit the panel, down to 70% (smaller text would not read); wider graphs scroll.
              style={{ width: "100%", maxWidth: layout.width, minWidth: layout.width * 0.7 }}
            >
              <defs>
                <marker id="graph-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                  <path d="M0,0 L10,5 L0,10 z" className="graph-arrow" />
                </marker>
              </defs>
              {edges.map((edge) => {
                const points = layout.edges.get(edgeKey(edge)) ?? [];
                const middle = points[Math.floor(points.length / 2)];
                return (
                  <g key={edgeKey(edge)}>
                    <path
                      d={pathOf(points)}
                      className="graph-edge"
                      style={{ strokeWidth: 1.2 + Math.log10(edge.count) }}
                      markerEnd="url(#graph-arrow)"
                    >
                      <title>{`${edge.from.split(":").slice(1).join(":")} → ${edge.to.split(":").slice(1).join(":")}: ${edge.count} ${edge.count === 1 ? "call" : "calls"}`}</title>
                    </path>
                    {labelEdges && edge.count > 1 && middle && (
                      <text x={middle.x + 4} y={middle.y} className="graph-edge-count">
                        ×{edge.count}
                      </text>
                    )}
                  </g>
                );
              })}
              {nodes.map((node) => {
                const at = layout.nodes.get(node.id);
                if (!at) return null;
                return (
                  <g
                    key={node.id}
                    role="button"
                    tabIndex={0}
                    aria-label={`${node.label}, ${node.kind.toLowerCase()}, ${node.count} ${node.count === 1 ? "call" : "calls"}${node.errors ? `, ${node.errors} failed` : ""}`}
                    aria-pressed={node.id === selectedNode}
                    className={`graph-node${node.id === selectedNode ? " selected" : ""}${node.errors ? " failed" : ""}`}
                    data-kind={node.kind}
                    transform={`translate(${at.x - at.width / 2},${at.y - NODE_HEIGHT / 2})`}
                    onClick={() => onSelect(node.firstSpanId)}
                    onKeyDown={(event) => onKey(event, node)}
                  >
                    <rect width={at.width} height={NODE_HEIGHT} rx={8} className="graph-node-box" />
                    <rect width={6} height={NODE_HEIGHT} rx={3} className="graph-node-kind" />
                    <text x={14} y={19} className="graph-node-label">
                      {node.label.length > 34 ? `${node.label.slice(0, 33)}…` : node.label}
                    </text>
                    <text x={14} y={36} className="graph-node-meta">
                      {node.kind}
                      {node.count > 1 ? ` ×${node.count}` : ""}
                      {node.errors ? ` · ${node.errors} failed` : ""}
                    </text>
                  </g>
                );
              })}
            </svg>
          </div>
        </>
      )}
    </section>
  );
}
