// The analytics page against a fake GraphQL client: one query per view, the charts'
// regions, the groups table, and the state in the URL.
import { fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter, useLocation } from "react-router-dom";
import { Provider, type Client } from "urql";
import { fromValue } from "wonka";
import { AnalyticsPage } from "../../pages/Analytics";

vi.mock("../ProjectContext", () => ({
  useProject: () => ({ project: { id: "p1", name: "support-bot" }, projects: [], refetch: vi.fn() }),
}));

class NoResize {
  observe() {}
  unobserve() {}
  disconnect() {}
}

beforeAll(() => {
  vi.stubGlobal("ResizeObserver", NoResize);
});

const bucket = (start: string, traces: number) => ({
  __typename: "AnalyticsBucket",
  start,
  traceCount: traces,
  traceErrorRate: traces ? 0.5 : null,
  spanCount: traces * 3,
  errorRate: traces ? 0.2 : null,
  traceLatencyP50Ms: traces ? 100 : null,
  traceLatencyP95Ms: traces ? 200 : null,
  traceLatencyP99Ms: traces ? 300 : null,
  inputTokens: 10 * traces,
  outputTokens: 5 * traces,
  totalTokens: 15 * traces,
  cost: 0.01 * traces,
});

function fakeClient() {
  const variables: Record<string, unknown>[] = [];
  const client = {
    executeQuery: vi.fn((operation: { variables: Record<string, unknown> }) => {
      variables.push(operation.variables);
      const grouped = operation.variables.grouped === true;
      const data = {
        project: {
          __typename: "Project",
          id: "p1",
          analytics: {
            __typename: "Analytics",
            bucket: operation.variables.bucket,
            totals: {
              __typename: "AnalyticsTotals",
              traceCount: 2,
              errorTraceCount: 1,
              traceErrorRate: 0.5,
              spanCount: 6,
              errorSpanCount: 1,
              errorRate: 0.17,
              traceLatencyP50Ms: 100,
              traceLatencyP95Ms: 200,
              traceLatencyP99Ms: 300,
              inputTokens: 20,
              outputTokens: 10,
              totalTokens: 30,
              cost: 0.02,
            },
            buckets: [bucket("2026-03-10T10:00:00Z", 0), bucket("2026-03-10T11:00:00Z", 2)],
            ...(grouped
              ? {
                  groups: [
                    {
                      __typename: "AnalyticsGroup",
                      key: "gpt-4o",
                      spanCount: 2,
                      errorCount: 1,
                      errorRate: 0.5,
                      spanLatencyP50Ms: 50,
                      spanLatencyP95Ms: 90,
                      spanLatencyP99Ms: 99,
                      totalTokens: 30,
                      cost: 0.02,
                    },
                  ],
                }
              : {}),
          },
        },
      };
      return fromValue({ operation, data, stale: false, hasNext: false });
    }),
    executeMutation: vi.fn(),
    executeSubscription: vi.fn(),
  } as unknown as Client;
  return { client, variables };
}

function Search() {
  return <output data-testid="search">{useLocation().search}</output>;
}

describe("AnalyticsPage", () => {
  it("draws every chart from one query and keeps range and grouping in the URL", async () => {
    const { client, variables } = fakeClient();
    render(
      <Provider value={client}>
        <MemoryRouter initialEntries={["/analytics?range=7d"]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
          <AnalyticsPage />
          <Search />
        </MemoryRouter>
      </Provider>,
    );
    for (const name of ["Volume", "Error rate", "Latency", "Tokens", "Cost"]) {
      expect(await screen.findByRole("region", { name })).toBeInTheDocument();
    }
    expect(screen.getByLabelText("Time range")).toHaveValue("7d");
    expect(variables).toHaveLength(1);
    expect(variables[0]).toMatchObject({ project: "p1", bucket: "HOUR", grouped: false });

    fireEvent.change(screen.getByLabelText("Group by"), { target: { value: "model" } });
    expect(await screen.findByRole("table", { name: "Groups by model" })).toBeInTheDocument();
    expect(screen.getByRole("rowheader", { name: "gpt-4o" })).toBeInTheDocument();
    expect(variables.at(-1)).toMatchObject({ by: "MODEL", grouped: true });

    fireEvent.change(screen.getByLabelText("Time range"), { target: { value: "30d" } });
    expect(screen.getByTestId("search")).toHaveTextContent("?range=30d&group=model");
    expect(variables.at(-1)).toMatchObject({ bucket: "DAY", grouped: true });
  });
});
