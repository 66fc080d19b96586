import { fireEvent, render, screen, within } from "@testing-library/react";
import { buildTree } from "../../lib/tree";
import { AgentGraph } from "./AgentGraph";
import { JsonView } from "./JsonView";
import { SpanStore, type RawSpan } from "./spans";

function raw(spanId: string, parentSpanId: string | null, name: string, kind: RawSpan["kind"], model: string | null = null): RawSpan {
  return { spanId, parentSpanId, name, kind, status: "OK", startTime: "2026-01-01T00:00:00+00:00", endTime: null, model };
}

let errors: unknown[][] = [];
const original = console.error;
beforeEach(() => {
  errors = [];
  console.error = (...args: unknown[]) => errors.push(args);
});
afterEach(() => {
  console.error = original;
  expect(errors).toEqual([]); // React warns through console.error
});

describe("AgentGraph", () => {
  it("draws one button per merged node and selects its first span", () => {
    const store = new SpanStore();
    store.merge([
      raw("a", null, "planner", "AGENT"),
      raw("l1", "a", "chat", "LLM", "gpt-4o"),
      raw("l2", "a", "chat", "LLM", "gpt-4o"),
      raw("t", "a", "search", "TOOL"),
    ]);
    const picked: string[] = [];
    render(<AgentGraph tree={buildTree(store.spans.values())} selectedId="t" onSelect={(id) => picked.push(id)} />);
    const graph = screen.getByRole("region", { name: "Agent graph" });
    const nodes = within(graph).getAllByRole("button");
    expect(nodes.map((n) => n.getAttribute("aria-label")).sort()).toEqual([
      "gpt-4o, llm, 2 calls",
      "planner, agent, 1 call",
      "search, tool, 1 call",
    ]);
    expect(within(graph).getByRole("button", { name: /^search/ })).toHaveAttribute("aria-pressed", "true");
    fireEvent.click(within(graph).getByRole("button", { name: /^gpt-4o/ }));
    fireEvent.keyDown(within(graph).getByRole("button", { name: /^planner/ }), { key: "Enter" });
    expect(picked.length).toBe(2);
    expect(["l1", "l2"]).toContain(picked[0]);
    expect(picked[1]).toBe("a");
  });
});

describe("JsonView", () => {
  it("folds large values and shows long strings in part", () => {
    const big = { items: Array.from({ length: 250 }, (_, i) => i), text: "x".repeat(5000), nested: { deep: { deeper: { a: 1 } } } };
    render(<JsonView value={big} />);
    // 250 items: folded at first
    const items = screen.getByRole("button", { name: /items: \[250 items\]/ });
    expect(items).toHaveAttribute("aria-expanded", "false");
    fireEvent.click(items);
    expect(screen.getByRole("button", { name: /Show the other 150/ })).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: /Show all 5,000 characters/ }));
    expect(screen.queryByRole("button", { name: /Show all 5,000 characters/ })).toBeNull();
  });
});
