// The selected span: its outline at once, its payload (input, output, attributes, events,
// error, annotations) from a small query by span id.
import "./trace.css";
import { useEffect, useMemo, useRef } from "react";
import { useQuery } from "urql";
import type { SpanPayloadQuery as SpanPayloadResult } from "../../gql/graphql";
import { formatCost, formatDuration, formatNumber, formatTime } from "../../lib/format";
import { messagesFromAttributes, toChatMessages } from "../../lib/messages";
import { AnnotationForm } from "./AnnotationForm";
import { ChatMessages } from "./ChatMessages";
import { JsonView } from "./JsonView";
import { SpanPayloadQuery } from "./queries";
import type { OutlineSpan } from "./spans";

type TracePayload = NonNullable<NonNullable<SpanPayloadResult["project"]>["trace"]>;
type Payload = NonNullable<TracePayload["span"]>;
type AnnotationRow = Payload["annotations"][number];

const CHAT_KINDS = new Set(["LLM"]);
const ANNOTATION_CONTEXT = { additionalTypenames: ["Annotation"] };

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") return Object.keys(value).length === 0;
  return value === "";
}

function Io({ title, value, chat }: { title: string; value: unknown; chat: ReturnType<typeof toChatMessages> }) {
  return (
    <section className="detail-section">
      <h3>{title}</h3>
      {chat ? <ChatMessages messages={chat} /> : isEmpty(value) ? <p className="muted">None</p> : <JsonView value={value} />}
    </section>
  );
}

interface ErrorShape {
  type?: unknown;
  message?: unknown;
  stack?: unknown;
}

function ErrorBlock({ error, statusMessage }: { error: unknown; statusMessage: string | null | undefined }) {
  const shaped = (typeof error === "object" && error !== null ? error : {}) as ErrorShape;
  const known = typeof shaped.type === "string" || typeof shaped.message === "string" || typeof shaped.stack === "string";
  return (
    <section className="detail-section detail-error">
      <h3>Error</h3>
      {statusMessage && statusMessage !== shaped.message && <p className="error">{statusMessage}</p>}
      {known ? (
        <>
          {(typeof shaped.type === "string" || typeof shaped.message === "string") && (
            <p className="error">
              {typeof shaped.type === "string" && <strong>{shaped.type}</strong>}
              {typeof shaped.type === "string" && typeof shaped.message === "string" ? ": " : ""}
              {typeof shaped.message === "string" ? shaped.message : ""}
            </p>
          )}
          {typeof shaped.stack === "string" && <pre className="stack">{shaped.stack}</pre>}
        </>
      ) : (
        !isEmpty(error) && <JsonView value={error} />
      )}
    </section>
  );
}

interface SpanEvent {
  name?: unknown;
  time_unix_nano?: unknown;
  timestamp?: unknown;
  time?: unknown;
  attributes?: unknown;
}

function eventTime(event: SpanEvent, spanStartMs: number): string {
  let ms: number | null = null;
  if (typeof event.time_unix_nano === "number") ms = event.time_unix_nano / 1e6;
  else if (typeof event.time_unix_nano === "string" && /^\d+$/.test(event.time_unix_nano)) {
    ms = Number(event.time_unix_nano) / 1e6;
  } else if (typeof event.timestamp === "string" || typeof event.time === "string") {
    const parsed = Date.parse(String(event.timestamp ?? event.time));
    ms = Number.isNaN(parsed) ? null : parsed;
  }
  if (ms === null) return "";
  return `+${formatDuration(Math.max(0, ms - spanStartMs))}`;
}

function Events({ events, startMs }: { events: unknown; startMs: number }) {
  const list = Array.isArray(events) ? (events as SpanEvent[]) : [];
  if (list.length === 0) return null;
  return (
    <section className="detail-section">
      <h3>Events ({list.length})</h3>
      <ol className="events">
        {list.map((event, index) => {
          const attributes = (typeof event.attributes === "object" && event.attributes) || {};
          const stack = (attributes as Record<string, unknown>)["exception.stacktrace"];
          return (
            <li key={index}>
              <div className="event-head">
                <strong>{typeof event.name === "string" ? event.name : "event"}</strong>{" "}
                <span className="muted">{eventTime(event, startMs)}</span>
              </div>
              {typeof stack === "string" ? (
                <>
                  <JsonView
                    value={Object.fromEntries(
                      Object.entries(attributes).filter(([key]) => key !== "exception.stacktrace"),
                    )}
                  />
                  <pre className="stack">{stack}</pre>
                </>
              ) : (
                !isEmpty(attributes) && <JsonView value={attributes} />
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function Annotations({ title, list }: { title: string; list: AnnotationRow[] }) {
  if (list.length === 0) return null;
  return (
    <div className="annotations">
      <h4>{title}</h4>
      <ul>
        {list.map((a) => (
          <li key={a.id}>
            <strong>{a.name}</strong>
            {a.score !== null && a.score !== undefined && <span className="annotation-score">{a.score}</span>}
            {a.label && <span className="annotation-label">{a.label}</span>}
            {a.comment && <span className="annotation-comment">{a.comment}</span>}
            <span className="muted">
              {a.source.toLowerCase()} · {formatTime(a.createdAt)}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

interface Props {
  projectId: string;
  traceId: string;
  span: OutlineSpan | null;
  /** The trace's global id, for annotateTrace (null until the trace is stored). */
  traceNodeId: string | null;
}

export function SpanDetail({ projectId, traceId, span, traceNodeId }: Props) {
  return (
    <section className="span-detail card" aria-label="Span detail">
      {span ? (
        <SpanDetailBody key={span.spanId} projectId={projectId} traceId={traceId} span={span} traceNodeId={traceNodeId} />
      ) : (
        <p className="muted">Select a span to see its input, output and attributes.</p>
      )}
    </section>
  );
}

function SpanDetailBody({ projectId, traceId, span, traceNodeId }: Props & { span: OutlineSpan }) {
  const variables = useMemo(() => ({ projectId, traceId, spanId: span.spanId }), [projectId, traceId, span.spanId]);
  const [result, reexecute] = useQuery({ query: SpanPayloadQuery, variables, context: ANNOTATION_CONTEXT });
  // A running span that ends (live) has its output now: read it again.
  const ended = useRef(span.endTime);
  useEffect(() => {
    if (ended.current !== span.endTime) {
      ended.current = span.endTime;
      reexecute({ requestPolicy: "network-only" });
    }
  }, [span.endTime, reexecute]);

  const trace = result.data?.project?.trace;
  const payload = trace?.span ?? null;
  const isChat = CHAT_KINDS.has(span.kind);
  const inputChat = useMemo(
    () =>
      payload && isChat
        ? toChatMessages(payload.input, "user") ?? messagesFromAttributes(payload.attributes, "llm.input_messages")
        : null,
    [payload, isChat],
  );
  const outputChat = useMemo(
    () =>
      payload && isChat
        ? toChatMessages(payload.output, "assistant") ??
          messagesFromAttributes(payload.attributes, "llm.output_messages")
        : null,
    [payload, isChat],
  );
  const duration = span.durationMs ?? (span.endMs === null ? null : span.endMs - span.startMs);

  return (
    <>
      <header className="detail-head">
        <h2>
          <span className="tree-kind" data-kind={span.kind}>
            {span.kind}
          </span>{" "}
          {span.name}
        </h2>
        <span className={`status-${span.status}`}>{span.endMs === null ? "RUNNING" : span.status}</span>
      </header>
      <dl className="detail-facts">
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(duration)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(span.startTime)}</dd>
        </div>
        {span.model && (
          <div>
            <dt>Model</dt>
            <dd>{span.model}</dd>
          </div>
        )}
        {(payload?.inputTokens ?? null) !== null && (
          <div>
            <dt>Input tokens</dt>
            <dd>{formatNumber(payload?.inputTokens)}</dd>
          </div>
        )}
        {(payload?.outputTokens ?? null) !== null && (
          <div>
            <dt>Output tokens</dt>
            <dd>{formatNumber(payload?.outputTokens)}</dd>
          </div>
        )}
        {span.totalTokens !== null && (
          <div>
            <dt>Total tokens</dt>
            <dd>
              {formatNumber(span.totalTokens)}
              {payload?.tokensEstimated && (
                <span className="muted" title="The model reported no usage; counted with a tokenizer">
                  {" "}
                  (estimated)
                </span>
              )}
            </dd>
          </div>
        )}
        {span.cost !== null && (
          <div>
            <dt>Cost</dt>
            <dd>{formatCost(span.cost)}</dd>
          </div>
        )}
        {span.cost === null && payload?.costSource === "UNKNOWN_MODEL" && (
          <div>
            <dt>Cost</dt>
            <dd className="muted" title="No price for this model: add one with setModelPrice">
              price unknown
            </dd>
          </div>
        )}
        <div>
          <dt>Span ID</dt>
          <dd className="mono">{span.spanId}</dd>
        </div>
      </dl>

      {result.error && !payload && <p className="error">Could not load the span: {result.error.message}</p>}
      {!payload && !result.error && <p className="muted">Loading…</p>}
      {payload && (
        <>
          {(span.status === "ERROR" || !isEmpty(payload.error)) && (
            <ErrorBlock error={payload.error} statusMessage={payload.statusMessage} />
          )}
          <Io title="Input" value={payload.input} chat={inputChat} />
          <Io title="Output" value={payload.output} chat={outputChat} />
          {!isEmpty(payload.attributes) && (
            <section className="detail-section">
              <h3>Attributes</h3>
              <JsonView value={payload.attributes} />
            </section>
          )}
          <Events events={payload.events} startMs={span.startMs} />
        </>
      )}
      <section className="detail-section">
        <h3>Annotations</h3>
        <Annotations title="On this span" list={payload?.annotations ?? []} />
        <Annotations title="On the trace" list={trace?.annotations ?? []} />
        <AnnotationForm spanId={payload?.id ?? null} traceId={traceNodeId ?? trace?.id ?? null} />
      </section>
    </>
  );
}
