import { errorText, expiryDate, otlpSnippet, sdkSnippet, serverOrigin } from "./snippets";

describe("snippets for a new key", () => {
  const secret = "at_abc123";
  const origin = "https://traces.example.com";

  it("set up the Python SDK with the key and the server", () => {
    const sdk = sdkSnippet(secret, origin);
    expect(sdk).toContain("import agenttrace_sdk");
    expect(sdk).toContain(`agenttrace_sdk.init(api_key="${secret}", endpoint="${origin}")`);
  });

  it("give OTLP exporters the traces endpoint and the bearer header", () => {
    expect(otlpSnippet(secret, origin).split("\n")).toEqual([
      "export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https://traces.example.com/v1/traces",
      'export OTEL_EXPORTER_OTLP_TRACES_HEADERS="Authorization=Bearer at_abc123"',
    ]);
  });

  it("take the server from the page's origin", () => {
    expect(serverOrigin({ origin: "http://127.0.0.1:8000" })).toBe("http://127.0.0.1:8000");
  });
});

describe("expiryDate and errorText", () => {
  it("turns a number of days into a date, and '' into none", () => {
    const now = Date.parse("2026-03-10T12:00:00Z");
    expect(expiryDate("", now)).toBeNull();
    expect(expiryDate("30", now)).toBe("2026-04-09T12:00:00.000Z");
  });

  it("shows the server's own words", () => {
    expect(
      errorText({
        message: "[GraphQL] only an owner may make or change an owner",
        graphQLErrors: [{ message: "only an owner may make or change an owner" }],
      }),
    ).toBe("only an owner may make or change an owner");
    expect(errorText({ message: "[Network] Failed to fetch" })).toBe("Failed to fetch");
  });
});
