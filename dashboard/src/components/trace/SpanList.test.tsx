import { fireEvent, render, screen, within } from "@testing-library/react";
import { useMemo, useState } from "react";
import { buildTree, visibleRows } from "../../lib/tree";
import { traceRange } from "../../lib/waterfall";
import { ChatMessages } from "./ChatMessages";
import { SpanList } from "./SpanList";
import { SpanStore, type RawSpan } from "./spans";

function raw(spanId: string, parentSpanId: string | null, name: string, startS: number, endS: number | null, extra: Partial<RawSpan> = {}): RawSpan {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
  return {
    spanId, parentSpanId, name, kind: "TOOL", status: "OK", startTime: at(startS),
    endTime: endS === null ? null : at(endS), durationMs: endS === null ? null : (endS - startS) * 1000, ...extra,
  };
}

function Harness({ spans, onSelect }: { spans: RawSpan[]; onSelect(id: string): void }) {
  const tree = useMemo(() => {
    const store = new SpanStore();
    store.merge(spans);
    return buildTree(store.spans.values());
  }, [spans]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [active, setActive] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const rows = visibleRows(tree, collapsed);
  const now = Date.UTC(2026, 0, 1) + 20_000;
  return (
    <SpanList
      rows={rows}
      range={traceRange(tree.order, now)}
      now={now}
      selectedId={selected}
      activeId={active}
      reveal={null}
      showWaterfall
      onActivate={setActive}
      onSelect={(id) => {
        setSelected(id);
        onSelect(id);
      }}
      onToggle={(id, expand) => {
        const next = new Set(collapsed);
        if (expand) next.delete(id);
        else next.add(id);
        setCollapsed(next);
      }}
    />
  );
}

const SPANS = [
  raw("root", null, "agent", 0, 10, { kind: "AGENT" }),
  raw("llm", "root", "chat", 1, 3, { kind: "LLM", model: "gpt-4o" }),
  raw("tool", "root", "search", 4, 5, { status: "ERROR" }),
  raw("sub", "tool", "retrieve", 4.2, null, { kind: "RETRIEVER" }),
];

describe("SpanList", () => {
  // jsdom lays nothing out: give elements a size, so the rows are virtualised into view.
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 800 });
    Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 1000 });
  });
  afterAll(() => {
    delete (HTMLElement.prototype as { clientHeight?: number }).clientHeight;
    delete (HTMLElement.prototype as { clientWidth?: number }).clientWidth;
  });

  it("shows a tree item and a titled waterfall bar per span, errors and running spans marked", () => {
    render(<Harness spans={SPANS} onSelect={() => {}} />);
    const items = within(screen.getByRole("tree", { name: "Span tree" })).getAllByRole("treeitem");
    expect(items.map((i) => i.getAttribute("aria-label"))).toEqual([
      "agent, agent, 10.0 s",
      "chat, llm, gpt-4o, 2.00 s",
      "search, tool, 1.00 s, error",
      "retrieve, retriever, running 15.8 s",
    ]);
    expect(items.map((i) => i.getAttribute("aria-level"))).toEqual(["1", "2", "2", "3"]);
    const bars = within(screen.getByRole("region", { name: "Waterfall" })).getAllByTitle(/ · /);
    expect(bars.map((b) => b.getAttribute("title"))).toEqual([
      "agent · 10.0 s",
      "chat · 2.00 s",
      "search · 1.00 s",
      "retrieve · running",
    ]);
    expect(bars[2]).toHaveClass("failed");
    expect(bars[3]).toHaveClass("running");
    // the running span reaches to now (20 s), which is the end of the range
    expect(parseFloat(bars[3]!.style.left) + parseFloat(bars[3]!.style.width)).toBeCloseTo(100);
  });

  it("moves with the arrows, collapses and expands with Left and Right, selects with Enter", () => {
    const selected: string[] = [];
    render(<Harness spans={SPANS} onSelect={(id) => selected.push(id)} />);
    const tree = screen.getByRole("tree", { name: "Span tree" });
    tree.focus();
    fireEvent.keyDown(tree, { key: "ArrowDown" }); // agent
    fireEvent.keyDown(tree, { key: "ArrowDown" }); // chat
    fireEvent.keyDown(tree, { key: "ArrowDown" }); // search
    fireEvent.keyDown(tree, { key: "Enter" });
    expect(selected).toEqual(["tool"]);
    expect(tree.getAttribute("aria-activedescendant")).toBe("span-row-tool");
    fireEvent.keyDown(tree, { key: "ArrowLeft" }); // collapses search
    expect(screen.queryByRole("treeitem", { name: /^retrieve/ })).toBeNull();
    expect(screen.getByRole("treeitem", { name: /^search/ })).toHaveAttribute("aria-expanded", "false");
    fireEvent.keyDown(tree, { key: "ArrowRight" }); // expands it again
    expect(screen.getByRole("treeitem", { name: /^retrieve/ })).toBeInTheDocument();
    fireEvent.keyDown(tree, { key: "ArrowLeft" }); // collapse
    fireEvent.keyDown(tree, { key: "ArrowLeft" }); // to the parent
    fireEvent.keyDown(tree, { key: " " });
    expect(selected).toEqual(["tool", "root"]);
    fireEvent.click(screen.getByRole("treeitem", { name: /^chat/ }));
    expect(selected).toEqual(["tool", "root", "llm"]);
    expect(screen.getByRole("treeitem", { name: /^chat/ })).toHaveAttribute("aria-selected", "true");
  });
});

describe("ChatMessages", () => {
  it("renders each message as an article named after its role", () => {
    render(
      <ChatMessages
        messages={[
          { role: "system", parts: [{ type: "text", text: "Be brief." }] },
          { role: "assistant", parts: [{ type: "tool_call", name: "search", input: { q: "x" } }] },
        ]}
      />,
    );
    const articles = screen.getAllByRole("article");
    expect(articles.map((a) => a.getAttribute("aria-label"))).toEqual(["system message", "assistant message"]);
    expect(within(articles[0]!).getByText("Be brief.")).toBeInTheDocument();
    expect(within(articles[1]!).getByText("Calls search")).toBeInTheDocument();
  });
});
