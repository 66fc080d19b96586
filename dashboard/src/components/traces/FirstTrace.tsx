// The empty state of a project without traces: the exact snippet to send the first one.
import { Link } from "react-router-dom";

export function FirstTrace() {
  const origin = window.location.origin;
  const curl = `NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
curl -X POST ${origin}/api/v1/traces \\
  -H "Authorization: Bearer $AGENTTRACE_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"traces": [{"trace_id": "'$(openssl rand -hex 16)'", "spans": [
        {"span_id": "'$(openssl rand -hex 8)'", "name": "my-agent", "kind": "AGENT",
         "start_time": "'$NOW'", "end_time": "'$NOW'", "status": "OK"}]}]}'`;
  const sdk = `import os
import agenttrace_sdk as at

at.init(api_key=os.environ["AGENTTRACE_API_KEY"], endpoint="${origin}")

@at.trace(kind="AGENT")
def answer(question: str) -> str:
    with at.span("llm", kind="LLM") as llm:
        llm.set_model("gpt-4o").set_tokens(input=12, output=5)
        return "Paris"

answer("What is the capital of France?")`;
  const otlp = `export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=${origin}/v1/traces
export OTEL_EXPORTER_OTLP_TRACES_HEADERS="Authorization=Bearer $AGENTTRACE_API_KEY"`;
  return (
    <section className="first-trace card" aria-label="Send your first trace">
      <h2>No traces yet: send the first one</h2>
      <p>
        Use an API key of this project (create one on <Link to="/projects">Projects</Link>) as{" "}
        <code>AGENTTRACE_API_KEY</code>. Traces appear here live, without a reload.
      </p>
      <h3>With curl</h3>
      <pre>{curl}</pre>
      <h3>With the Python SDK</h3>
      <pre>{sdk}</pre>
      <h3>With any OpenTelemetry exporter</h3>
      <pre>{otlp}</pre>
    </section>
  );
}

/** No project to show: the caller may see none yet. */
export function NoProject() {
  return (
    <div className="empty">
      No project to show yet. <Link to="/projects">Create one on Projects</Link>, or ask an administrator to add you to
      one.
    </div>
  );
}
