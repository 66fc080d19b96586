// The selected span's cost: the server's price, "price unknown" for a model no price
// table knows (never $0), and tokens it estimated marked as such.
import { render, screen } from "@testing-library/react";
import { Provider, type Client } from "urql";
import { fromValue } from "wonka";
import { SpanDetail } from "./SpanDetail";
import { toOutline } from "./spans";

function clientAnswering(span: Record<string, unknown>): Client {
  return {
    executeQuery: vi.fn((operation: unknown) =>
      fromValue({
        operation,
        data: {
          project: {
            __typename: "Project",
            id: "p1",
            trace: {
              __typename: "Trace",
              id: "t1",
              annotations: [],
              span: {
                __typename: "Span",
                id: "s1",
                spanId: "b7ad6b7169203331",
                statusMessage: null,
                inputTokens: 120,
                outputTokens: 30,
                totalTokens: 150,
                input: null,
                output: null,
                attributes: {},
                events: [],
                error: null,
                annotations: [],
                ...span,
              },
            },
          },
        },
        stale: false,
        hasNext: false,
      }),
    ),
    executeMutation: vi.fn(),
    executeSubscription: vi.fn(),
  } as unknown as Client;
}

function show(cost: number | null, payload: Record<string, unknown>) {
  const span = toOutline({
    spanId: "b7ad6b7169203331",
    name: "chat",
    kind: "LLM",
    status: "OK",
    startTime: "2026-11-25T10:00:00Z",
    endTime: "2026-11-25T10:00:01Z",
    durationMs: 1000,
    model: "mystery-model-9",
    totalTokens: 150,
    cost,
  });
  render(
    <Provider value={clientAnswering({ cost, ...payload })}>
      <SpanDetail projectId="p1" traceId="t" span={span} traceNodeId="t1" />
    </Provider>,
  );
}

describe("a span's cost", () => {
  it("says the price is unknown rather than showing $0", async () => {
    show(null, { costSource: "UNKNOWN_MODEL", tokensEstimated: false });
    expect(await screen.findByText("price unknown")).toBeInTheDocument();
    expect(screen.queryByText("(estimated)")).not.toBeInTheDocument();
  });

  it("shows a computed cost, and marks estimated tokens", async () => {
    show(0.0012, { costSource: "BUNDLED_PRICE", tokensEstimated: true });
    expect(await screen.findByText("(estimated)")).toBeInTheDocument();
    expect(screen.queryByText("price unknown")).not.toBeInTheDocument();
    expect(screen.getByText("Cost")).toBeInTheDocument();
  });
});
