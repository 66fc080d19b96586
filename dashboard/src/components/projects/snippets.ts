// Copy-paste snippets for a new API key, and copying text to the clipboard. No React.

/** The Python SDK's setup with `secret`, sending to the server at `origin`. */
export function sdkSnippet(secret: string, origin: string): string {
  return [
    "# pip install -e sdk/   (the SDK in a checkout of AgentTrace)",
    "import agenttrace_sdk",
    "",
    `agenttrace_sdk.init(api_key="${secret}", endpoint="${origin}")`,
    "",
    "",
    '@agenttrace_sdk.trace(kind="AGENT")',
    "def answer(question: str) -> str:",
    '    return "..."  # your agent; spans are sent in the background',
  ].join("\n");
}

/** The two environment variables any OpenTelemetry SDK's OTLP/HTTP exporter reads. */
export function otlpSnippet(secret: string, origin: string): string {
  return [
    `export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=${origin}/v1/traces`,
    `export OTEL_EXPORTER_OTLP_TRACES_HEADERS="Authorization=Bearer ${secret}"`,
  ].join("\n");
}

/** The server's base URL as the browser reaches it (no trailing slash). */
export function serverOrigin(location: Pick<Location, "origin"> = window.location): string {
  return location.origin.replace(/\/+$/, "");
}

/** Copies `text`; falls back to a selected textarea where the Clipboard API is missing
 * (pages served over plain http from another host than localhost). */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the old way
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

export const SCOPES = [
  { value: "INGEST", label: "Ingest", hint: "send traces" },
  { value: "READ", label: "Read", hint: "read traces" },
  { value: "ANNOTATE", label: "Annotate", hint: "read, annotate and tag traces" },
  { value: "ADMIN", label: "Admin", hint: "everything but managing people" },
] as const;
export type ScopeValue = (typeof SCOPES)[number]["value"];

export const EXPIRIES = [
  { value: "", label: "Never" },
  { value: "7", label: "In 7 days" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In a year" },
] as const;

/** When a key made now with the chosen expiry ("" or days) stops working, as ISO. */
export function expiryDate(days: string, now: number): string | null {
  if (!days) return null;
  return new Date(now + Number(days) * 86_400_000).toISOString();
}

/** The GraphQL error's own text, without urql's "[GraphQL] " prefix. */
export function errorText(error: { message: string; graphQLErrors?: readonly { message: string }[] }): string {
  const first = error.graphQLErrors?.[0]?.message;
  return first ?? error.message.replace(/^\[(GraphQL|Network)\]\s*/, "");
}
