// A new API key's secret, shown this once, with copy buttons and the snippets that use
// it. The element holding only the secret is labelled "New API key" (the browser tests
// read the key from it).
import { useEffect, useRef, useState } from "react";
import { copyText, otlpSnippet, sdkSnippet, serverOrigin } from "./snippets";

interface Props {
  secret: string;
  projectName: string;
  /** Said above the key, e.g. "Project created with its first key". */
  intro?: string;
  onDone(): void;
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = window.setTimeout(() => setState("idle"), 2000);
    return () => window.clearTimeout(timer);
  }, [state]);
  return (
    <button
      type="button"
      className="ghost copy"
      onClick={() => void copyText(text).then((ok) => setState(ok ? "copied" : "failed"))}
    >
      {label}
      <span className="copy-state" aria-live="polite">
        {state === "copied" ? " ✓ copied" : state === "failed" ? " – select and copy by hand" : ""}
      </span>
    </button>
  );
}

export function NewKeyPanel({ secret, projectName, intro, onDone }: Props) {
  const origin = serverOrigin();
  const sdk = sdkSnippet(secret, origin);
  const otlp = otlpSnippet(secret, origin);
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    panel.current?.focus();
  }, [secret]);
  return (
    <section ref={panel} tabIndex={-1} className="new-key" aria-label={`API key created for ${projectName}`}>
      <p className="new-key-intro">
        <strong>{intro ?? "API key created."}</strong> Copy it now: it is shown only this once (the server keeps only
        a hash).
      </p>
      <div className="new-key-secret">
        <code aria-label="New API key">{secret}</code>
        <CopyButton text={secret} label="Copy key" />
      </div>
      <div className="new-key-snippet">
        <div className="new-key-snippet-head">
          <h4>Python SDK</h4>
          <CopyButton text={sdk} label="Copy SDK snippet" />
        </div>
        <pre aria-label="SDK snippet">
          <code>{sdk}</code>
        </pre>
      </div>
      <div className="new-key-snippet">
        <div className="new-key-snippet-head">
          <h4>OpenTelemetry (OTLP/HTTP)</h4>
          <CopyButton text={otlp} label="Copy OTLP snippet" />
        </div>
        <pre aria-label="OTLP snippet">
          <code>{otlp}</code>
        </pre>
      </div>
      <button type="button" onClick={onDone}>
        Done, I have copied it
      </button>
    </section>
  );
}
