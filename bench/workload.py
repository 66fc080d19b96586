"""A deterministic generator of realistic LLM-agent traces, in every shape we ingest.

Each trace comes from its own ``random.Random`` seeded with the workload's knobs and the
trace's index and size, so trace ``i`` is the same whichever range it is generated in, the
same workload always gives the same bytes, and two different workloads (another seed, or
another ``now_ns``) never share a trace id.

The default trace has 10 spans: an AGENT root, 3 LLM calls (~1 KB of OpenAI-style chat
messages in, ~500 B out, a model from ``MODELS``, token counts and a cost), 4 TOOL and
2 RETRIEVER spans, nested two or three levels below the root (a retriever or a nested tool
inside a tool). Larger traces (``spans_per_trace=1000`` or ``10000``) repeat that pattern
of calls at every agent and fan out into 3-6 parallel sub-agents (AGENT or CHAIN) until
the span budget is spent: a tree 6-9 levels deep.

Children always run inside their parent's window: an agent's own calls run one after the
other, its sub-agents in parallel after them. About ``error_rate`` of the spans fail, with
an OpenTelemetry ``exception`` event. Users and sessions come from small pools (a session
always belongs to one user); tags and metadata are per trace. Trace start times are spread
uniformly over ``window_s`` seconds ending at ``now_ns`` (each trace ends by ``now_ns``).

Encodings:

- ``otlp_bytes``: an OTLP ``ExportTraceServiceRequest`` as the stock exporter sends it,
  with OpenInference attributes (``openinference.span.kind``, ``llm.model_name``,
  ``llm.token_count.*``, ``input.value``...; see ingest/conventions.py);
- ``native_bytes``: the native JSON batch of ``POST /api/v1/traces`` (ingest/native.py);
- ``span_records`` / ``span_rows``: what the ingest decoders hand to the bus, and the
  storage worker's rows, for seeding PostgreSQL directly (bench/seed.py).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from ingest.conventions import stored_attributes
from messaging.span_batch import SpanRecord
from workers.span_rows import SpanRow, to_row

__all__ = [
    "DEFAULT_NOW_NS",
    "MODELS",
    "GeneratedSpan",
    "GeneratedTrace",
    "Shape",
    "Workload",
    "native_batch",
    "native_bytes",
    "otlp_attributes",
    "otlp_bytes",
    "otlp_request",
    "span_records",
    "span_rows",
]

DEFAULT_NOW_NS = 1_767_225_600_000_000_000
"""2026-01-01T00:00:00Z: a fixed default keeps the bytes identical run after run. Pass
``now_ns=time.time_ns()`` for data in the dashboards' recent windows."""

MODELS: dict[str, tuple[str, float, float]] = {
    # model: (provider, USD per 1M input tokens, USD per 1M output tokens)
    "gpt-4o": ("openai", 2.50, 10.00),
    "gpt-4o-mini": ("openai", 0.15, 0.60),
    "claude-3-5-sonnet-20241022": ("anthropic", 3.00, 15.00),
    "claude-3-5-haiku-20241022": ("anthropic", 0.80, 4.00),
    "gemini-1.5-pro": ("google", 1.25, 5.00),
}
_MODEL_NAMES = tuple(MODELS)
_MODEL_WEIGHTS = (35, 30, 15, 10, 10)

Shape = Literal["otlp", "native"]
"""Which decoder's output ``span_records`` reproduces: OTLP records keep the attributes
no column holds (``llm.provider``, ``otel.scope.name``...) and the resource, as a stock
exporter's spans are stored."""

SERVICE_NAME = "bench-agent"
SCOPE_NAME = "openinference.instrumentation.openai"
SCOPE_VERSION = "0.1.22"
_RESOURCE_BASE = {
    "service.name": SERVICE_NAME,
    "telemetry.sdk.language": "python",
    "telemetry.sdk.name": "opentelemetry",
    "telemetry.sdk.version": "1.45.2",
}
# SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK, as the Python SDK sets it on local spans.
_SPAN_FLAGS = 0x100

_AGENTS = ("support-agent", "research-agent", "coding-agent", "travel-planner", "sql-analyst")
_SUB_AGENTS = ("researcher", "planner", "critic", "summarizer", "coder", "fact-checker")
_TOOLS = {
    "search_web": "Searches the web and returns the top results.",
    "get_weather": "Current weather and forecast for a city.",
    "query_database": "Runs a read-only SQL query on the analytics warehouse.",
    "send_email": "Sends an email on the user's behalf.",
    "read_file": "Reads a file from the workspace.",
    "calculator": "Evaluates an arithmetic expression.",
    "fetch_url": "Downloads a web page and returns its text.",
    "create_ticket": "Opens a ticket in the support queue.",
}
_TOOL_NAMES = tuple(_TOOLS)
_TAGS = ("beta", "support", "billing", "search", "rag", "experiment-a", "experiment-b", "mobile")
_REGIONS = ("eu-west-1", "us-east-1", "us-west-2", "ap-southeast-1")
_TIERS = ("free", "pro", "enterprise")
_VERSIONS = ("1.4.0", "1.4.1", "1.5.0")
_ERRORS = {
    "LLM": (
        ("openai.RateLimitError", "Rate limit reached for requests"),
        ("openai.APITimeoutError", "Request timed out."),
    ),
    "TOOL": (
        ("TimeoutError", "tool call exceeded 30 s"),
        ("ValueError", "invalid arguments for tool"),
        ("requests.exceptions.HTTPError", "502 Server Error: Bad Gateway"),
    ),
    "RETRIEVER": (("ConnectionError", "vector store unreachable"),),
}
_GENERIC_ERROR = (("RuntimeError", "step failed"),)
_SYSTEM_PROMPTS = (
    "You are a helpful support assistant for an online store. Answer the customer's question"
    " using only the context provided. If the context does not contain the answer, say so and"
    " offer to open a ticket. Be concise, friendly and precise; never invent order numbers,"
    " prices or policies. Use the tools when you need fresh data.",
    "You are a research agent. Break the user's question into sub-questions, search for"
    " evidence, and write a short answer that cites its sources by number. Prefer primary"
    " sources, note disagreements between them, and say how confident you are. Keep the final"
    " answer under two hundred words unless asked for more.",
    "You are a senior software engineer pairing with the user. Read the relevant files before"
    " proposing a change, explain the change in two sentences, then show a minimal diff. Do"
    " not change unrelated code. Run the tests after every change and report their outcome"
    " plainly, including failures you could not fix.",
    "You are a travel planner. Build an itinerary that fits the user's dates, budget and"
    " interests. Check the weather and opening hours with the tools, group sights by area to"
    " limit travel time, and list the total estimated cost at the end in the user's currency.",
    "You are a data analyst with read-only access to the warehouse. Translate the question"
    " into one SQL query, run it, and explain the result in plain words with the key numbers."
    " If the question is ambiguous, state the assumption you made before answering.",
)
_WORD_TEXT = """\
the order customer refund shipping delivery account invoice payment policy return item
price discount warranty product support request status update query result table user
session model token latency error retry timeout search document source evidence answer
question context summary report chart metric revenue growth region quarter week month
weather city flight hotel museum itinerary budget route train ticket booking code
function test file change diff commit branch review deploy service cache index database
schema column value record field batch stream event trace span agent tool call step plan
and of to in for with on at by from about into over after before under between through
is was are be been has have had will would can could should may might must not no yes
new old first last next other same each every some many few more most less best good
"""
_WORDS = tuple(_WORD_TEXT.split())


def _text(rng: random.Random, approx_bytes: int) -> str:
    """Plausible-looking words, about ``approx_bytes`` long (6.5 bytes a word on average)."""
    words = rng.choices(_WORDS, k=max(1, approx_bytes * 2 // 13))
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


@dataclass(frozen=True, slots=True)
class GeneratedSpan:
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    status: str
    status_message: str | None
    start_time_unix_nano: int
    end_time_unix_nano: int
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    input: Any = None
    output: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    """Attributes beyond the mapped columns (``tool.name``, ``llm.provider``...)."""
    events: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None

    @property
    def total_tokens(self) -> int | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)


@dataclass(frozen=True, slots=True)
class GeneratedTrace:
    trace_id: str
    user_id: str
    session_id: str
    environment: str
    tags: list[str]
    metadata: dict[str, Any]
    spans: list[GeneratedSpan]
    """Parents before children; ``spans[0]`` is the root."""


@dataclass(slots=True)
class _Node:
    parent: int | None
    kind: str
    parallel: bool
    """A sub-agent: runs concurrently with its parallel siblings, after the sequential ones."""
    children: list[int] = field(default_factory=list)
    duration: int = 0
    offset: int = 0


# An agent's own calls, as (kind, index of the parent within the pattern or None for the
# agent itself). Parents come before children, so any prefix is a valid tree.
_PATTERNS: tuple[tuple[tuple[str, int | None], ...], ...] = (
    # two levels: a tool that retrieves
    (
        ("LLM", None),
        ("TOOL", None),
        ("RETRIEVER", 1),
        ("TOOL", None),
        ("LLM", None),
        ("TOOL", None),
        ("RETRIEVER", 5),
        ("TOOL", None),
        ("LLM", None),
    ),
    # three levels: a tool that calls a tool that retrieves
    (
        ("LLM", None),
        ("TOOL", None),
        ("TOOL", 1),
        ("RETRIEVER", 2),
        ("LLM", None),
        ("TOOL", None),
        ("RETRIEVER", 5),
        ("TOOL", None),
        ("LLM", None),
    ),
)
_MS = 1_000_000
_LEAF_MS = {"LLM": (400, 6000), "TOOL": (30, 1500), "RETRIEVER": (20, 400)}
_DEFAULT_LEAF_MS = (5, 50)


def _add(nodes: list[_Node], parent: int, kind: str, *, parallel: bool) -> int:
    nodes.append(_Node(parent, kind, parallel))
    index = len(nodes) - 1
    nodes[parent].children.append(index)
    return index


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` as ``parts`` uneven shares of at least 1."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    spare = total - parts
    scale = sum(weights)
    shares = [1 + int(spare * w / scale) for w in weights]
    for i in range(total - sum(shares)):
        shares[i % parts] += 1
    return shares


def _fill(rng: random.Random, nodes: list[_Node], parent: int, budget: int) -> None:
    """Adds exactly ``budget`` descendants under ``nodes[parent]``."""
    if budget <= 0:
        return
    pattern = _PATTERNS[rng.randrange(len(_PATTERNS))]
    base = len(nodes)
    for kind, relative in pattern[:budget]:
        _add(nodes, parent if relative is None else base + relative, kind, parallel=False)
    budget -= min(budget, len(pattern))
    if budget == 0:
        return
    fan_out = min(budget, rng.randint(3, 6))
    for share in _split(rng, budget, fan_out):
        kind = "AGENT" if rng.random() < 0.5 else "CHAIN"
        child = _add(nodes, parent, kind, parallel=True)
        _fill(rng, nodes, child, share - 1)


def _tree(rng: random.Random, size: int) -> list[_Node]:
    nodes = [_Node(None, "AGENT", False)]
    _fill(rng, nodes, 0, size - 1)
    return nodes


def _layout(rng: random.Random, nodes: list[_Node]) -> None:
    """Durations bottom-up, then each child's offset from its parent's start."""
    for node in reversed(nodes):  # children have higher indices than their parents
        if not node.children:
            low, high = _LEAF_MS.get(node.kind, _DEFAULT_LEAF_MS)
            node.duration = int(rng.uniform(low, high) * _MS)
            continue
        t = int(rng.uniform(1, 10) * _MS)
        for index in node.children:
            child = nodes[index]
            if not child.parallel:
                t += int(rng.uniform(0.2, 5) * _MS)
                child.offset = t
                t += child.duration
        end = t
        for index in node.children:
            child = nodes[index]
            if child.parallel:
                child.offset = t + int(rng.uniform(0, 5) * _MS)
                end = max(end, child.offset + child.duration)
        node.duration = end + int(rng.uniform(1, 10) * _MS)


def _id(rng: random.Random, bits: int, taken: set[int]) -> int:
    while True:
        value = rng.getrandbits(bits)
        if value and value not in taken:
            taken.add(value)
            return value


def _messages(rng: random.Random, system_prompt: str) -> dict[str, Any]:
    messages = [
        {"role": "system", "content": system_prompt},
        {
            "role": "user",
            "content": _text(rng, 120) + " Context: " + _text(rng, rng.randint(380, 560)),
        },
    ]
    return {"messages": messages}


@dataclass(frozen=True, slots=True)
class Workload:
    """The workload's knobs; ``trace(i)`` is a pure function of them and ``i``."""

    seed: int = 0
    spans_per_trace: int = 10
    now_ns: int = DEFAULT_NOW_NS
    window_s: float = 7 * 24 * 3600.0
    error_rate: float = 0.05
    users: int = 100
    sessions: int = 1000

    def __post_init__(self) -> None:
        if self.spans_per_trace < 1:
            raise ValueError("spans_per_trace must be at least 1")
        if not 0 <= self.error_rate <= 1:
            raise ValueError("error_rate must be between 0 and 1")
        if self.users < 1 or self.sessions < 1:
            raise ValueError("users and sessions must be at least 1")

    def traces(self, count: int, start: int = 0) -> Iterator[GeneratedTrace]:
        """Traces ``start`` to ``start + count - 1``."""
        for index in range(start, start + count):
            yield self.trace(index)

    def trace_count(self, total_spans: int) -> int:
        """How many traces ``traces_for_spans(total_spans)`` yields."""
        return -(-total_spans // self.spans_per_trace)

    def traces_for_spans(
        self, total_spans: int, start: int = 0, count: int | None = None
    ) -> Iterator[GeneratedTrace]:
        """Exactly ``total_spans`` spans: full traces, the last one smaller if need be.
        ``start``/``count`` select a range of those traces (for splitting the work)."""
        last = self.trace_count(total_spans) - 1
        stop = last + 1 if count is None else min(last + 1, start + count)
        for index in range(start, stop):
            size = total_spans - last * self.spans_per_trace if index == last else None
            yield self.trace(index, size)

    def trace(self, index: int, spans: int | None = None) -> GeneratedTrace:
        """Trace number ``index`` (with ``spans`` spans instead of ``spans_per_trace``)."""
        size = self.spans_per_trace if spans is None else spans
        if size < 1:
            raise ValueError("a trace has at least one span")
        rng = random.Random(self._identity(index, size))
        trace_id = format(rng.getrandbits(128) or 1, "032x")
        session = rng.randrange(self.sessions)
        environment = "production" if rng.random() < 0.85 else "staging"
        tags = sorted(rng.sample(_TAGS, rng.randint(0, 3)))
        metadata = {
            "app_version": rng.choice(_VERSIONS),
            "region": rng.choice(_REGIONS),
            "tier": rng.choice(_TIERS),
        }
        agent = rng.choice(_AGENTS)
        system_prompt = _SYSTEM_PROMPTS[_AGENTS.index(agent) % len(_SYSTEM_PROMPTS)]

        nodes = _tree(rng, size)
        _layout(rng, nodes)
        window_ns = int(self.window_s * 1_000_000_000)
        root_start = self.now_ns - int(rng.random() * window_ns) - nodes[0].duration
        starts = [root_start] * len(nodes)
        taken: set[int] = set()
        ids = [format(_id(rng, 64, taken), "016x") for _ in nodes]
        generated = []
        for i, node in enumerate(nodes):
            if node.parent is not None:
                starts[i] = starts[node.parent] + node.offset
            generated.append(
                self._span(
                    rng,
                    node,
                    span_id=ids[i],
                    parent=None if node.parent is None else ids[node.parent],
                    start=starts[i],
                    name=agent if i == 0 else None,
                    system_prompt=system_prompt,
                )
            )
        return GeneratedTrace(
            trace_id=trace_id,
            user_id=f"user-{session % self.users:04d}",
            session_id=f"session-{session:05d}",
            environment=environment,
            tags=tags,
            metadata=metadata,
            spans=generated,
        )

    def _identity(self, index: int, size: int) -> str:
        """The trace's random seed: every knob takes part, so two different workloads (or
        one with another ``now_ns``) never reuse a trace id for different spans."""
        knobs = (
            self.seed,
            self.spans_per_trace,
            self.now_ns,
            self.window_s,
            self.error_rate,
            self.users,
            self.sessions,
        )
        return "agenttrace-bench:" + ":".join(map(repr, (*knobs, index, size)))

    def _span(
        self,
        rng: random.Random,
        node: _Node,
        *,
        span_id: str,
        parent: str | None,
        start: int,
        name: str | None,
        system_prompt: str,
    ) -> GeneratedSpan:
        end = start + node.duration
        failed = rng.random() < self.error_rate
        fields: dict[str, Any] = {}
        kind = node.kind
        if kind == "LLM":
            model = rng.choices(_MODEL_NAMES, _MODEL_WEIGHTS)[0]
            provider, price_in, price_out = MODELS[model]
            prompt = _messages(rng, system_prompt)
            fields = {
                "model": model,
                "input": prompt,
                "attributes": {
                    "llm.provider": provider,
                    "llm.system": provider,
                    "llm.invocation_parameters": orjson.dumps(
                        {"temperature": rng.choice((0, 0.2, 0.7)), "max_tokens": 1024}
                    ).decode(),
                },
            }
            if not failed:
                completion = _text(rng, rng.randint(400, 600))
                input_tokens = len(orjson.dumps(prompt)) // 4 + rng.randint(0, 40)
                output_tokens = len(completion) // 4 + rng.randint(0, 20)
                cost = (input_tokens * price_in + output_tokens * price_out) / 1_000_000
                fields |= {
                    "output": completion,
                    "input_tokens": input_tokens,
                    "output_tokens": output_tokens,
                    "cost": round(cost, 8),
                }
            name = name or "ChatCompletion"
        elif kind == "TOOL":
            tool = rng.choice(_TOOL_NAMES)
            fields = {
                "input": {"query": _text(rng, 60), "limit": rng.choice((3, 5, 10))},
                "output": None if failed else _text(rng, rng.randint(150, 300)),
                "attributes": {"tool.name": tool, "tool.description": _TOOLS[tool]},
            }
            name = name or tool
        elif kind == "RETRIEVER":
            top_k = 3
            fields = {
                "input": _text(rng, 80),
                "output": None
                if failed
                else [
                    {
                        "document.id": f"doc-{rng.randrange(100_000):05d}",
                        "document.score": round(rng.uniform(0.5, 0.99), 4),
                        "document.content": _text(rng, 160),
                    }
                    for _ in range(top_k)
                ],
                "attributes": {"retrieval.top_k": top_k},
            }
            name = name or "retrieve"
        else:  # the root agent, sub-agents and chains
            fields = {
                "input": _text(rng, 120),
                "output": None if failed else _text(rng, rng.randint(200, 400)),
            }
            if name is None:
                prefix = "sub-agent" if kind == "AGENT" else "chain"
                name = f"{prefix}:{rng.choice(_SUB_AGENTS)}"
        status, message, events, error = "OK", None, [], None
        if failed:
            error_type, message = rng.choice(_ERRORS.get(kind, _GENERIC_ERROR))
            stack = (
                "Traceback (most recent call last):\n"
                f'  File "agent/{kind.lower()}.py", line {rng.randint(20, 400)}, in run\n'
                "    result = await self.call(**arguments)\n"
                f"{error_type}: {message}"
            )
            status = "ERROR"
            error = {"type": error_type, "message": message, "stack": stack}
            events = [
                {
                    "name": "exception",
                    "time_unix_nano": end,
                    "attributes": {
                        "exception.type": error_type,
                        "exception.message": message,
                        "exception.stacktrace": stack,
                    },
                }
            ]
        return GeneratedSpan(
            span_id=span_id,
            parent_span_id=parent,
            name=name,
            kind=kind,
            status=status,
            status_message=message,
            start_time_unix_nano=start,
            end_time_unix_nano=end,
            events=events,
            error=error,
            **fields,
        )


# ---------------------------------------------------------------------------------------
# Encodings


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _payload_attributes(prefix: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {f"{prefix}.value": value, f"{prefix}.mime_type": "text/plain"}
    return {f"{prefix}.value": _json(value), f"{prefix}.mime_type": "application/json"}


def otlp_attributes(trace: GeneratedTrace, span: GeneratedSpan) -> dict[str, Any]:
    """The span's attributes as an OpenInference instrumentation sets them."""
    attributes: dict[str, Any] = {"openinference.span.kind": span.kind}
    attributes |= _payload_attributes("input", span.input)
    attributes |= _payload_attributes("output", span.output)
    if span.model is not None:
        attributes["llm.model_name"] = span.model
    if span.input_tokens is not None:
        attributes["llm.token_count.prompt"] = span.input_tokens
    if span.output_tokens is not None:
        attributes["llm.token_count.completion"] = span.output_tokens
    if span.total_tokens is not None:
        attributes["llm.token_count.total"] = span.total_tokens
    if span.cost is not None:
        attributes["llm.cost.total"] = span.cost
    attributes |= span.attributes
    # using_attributes() puts the context attributes on every span of the trace.
    attributes["user.id"] = trace.user_id
    attributes["session.id"] = trace.session_id
    if trace.tags:
        attributes["tag.tags"] = list(trace.tags)
    attributes["metadata"] = _json(trace.metadata)
    return attributes


def _resource(environment: str) -> dict[str, Any]:
    return _RESOURCE_BASE | {"deployment.environment.name": environment}


def _any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[_any_value(v) for v in value]))
    return AnyValue(string_value=str(value))


def _key_values(attributes: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=_any_value(v)) for k, v in attributes.items()]


def _otlp_span(trace: GeneratedTrace, span: GeneratedSpan) -> Span:
    otlp = Span(
        trace_id=bytes.fromhex(trace.trace_id),
        span_id=bytes.fromhex(span.span_id),
        parent_span_id=bytes.fromhex(span.parent_span_id) if span.parent_span_id else b"",
        flags=_SPAN_FLAGS,
        name=span.name,
        kind=Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=span.start_time_unix_nano,
        end_time_unix_nano=span.end_time_unix_nano,
        attributes=_key_values(otlp_attributes(trace, span)),
        events=[
            Span.Event(
                time_unix_nano=event["time_unix_nano"],
                name=event["name"],
                attributes=_key_values(event["attributes"]),
            )
            for event in span.events
        ],
    )
    if span.status == "ERROR":
        otlp.status.code = Status.STATUS_CODE_ERROR
        otlp.status.message = span.status_message or ""
    else:
        otlp.status.code = Status.STATUS_CODE_OK
    return otlp


def otlp_request(traces: Iterable[GeneratedTrace]) -> ExportTraceServiceRequest:
    """One export as a BatchSpanProcessor sends it: a ResourceSpans per resource (here, per
    deployment environment), spans in the order they ended."""
    by_environment: dict[str, list[tuple[int, Span]]] = {}
    for trace in traces:
        spans = by_environment.setdefault(trace.environment, [])
        spans.extend((s.end_time_unix_nano, _otlp_span(trace, s)) for s in trace.spans)
    request = ExportTraceServiceRequest()
    for environment, spans in by_environment.items():
        spans.sort(key=lambda pair: pair[0])
        request.resource_spans.append(
            ResourceSpans(
                resource=Resource(attributes=_key_values(_resource(environment))),
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(name=SCOPE_NAME, version=SCOPE_VERSION),
                        spans=[span for _, span in spans],
                    )
                ],
            )
        )
    return request


def otlp_bytes(traces: Iterable[GeneratedTrace]) -> bytes:
    """The protobuf body of ``POST /v1/traces`` (``application/x-protobuf``)."""
    body: bytes = otlp_request(traces).SerializeToString(deterministic=True)
    return body


def _native_span(span: GeneratedSpan) -> dict[str, Any]:
    native: dict[str, Any] = {
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "name": span.name,
        "kind": span.kind,
        "status": span.status,
        "start_time": span.start_time_unix_nano,
        "end_time": span.end_time_unix_nano,
    }
    if span.status_message is not None:
        native["status_message"] = span.status_message
    if span.model is not None:
        native["model"] = span.model
    if span.input_tokens is not None:
        native["input_tokens"] = span.input_tokens
    if span.output_tokens is not None:
        native["output_tokens"] = span.output_tokens
    if span.cost is not None:
        native["cost"] = span.cost
    if span.input is not None:
        native["input"] = span.input
    if span.output is not None:
        native["output"] = span.output
    if span.attributes:
        native["attributes"] = span.attributes
    if span.events:
        native["events"] = span.events
    if span.error is not None:
        native["error"] = span.error
    return native


def native_batch(traces: Iterable[GeneratedTrace]) -> dict[str, Any]:
    """The document of ``POST /api/v1/traces``: trace-level user, session, environment,
    tags and metadata, which apply to every span."""
    return {
        "traces": [
            {
                "trace_id": trace.trace_id,
                "user_id": trace.user_id,
                "session_id": trace.session_id,
                "environment": trace.environment,
                "tags": trace.tags,
                "metadata": trace.metadata,
                "spans": [_native_span(span) for span in trace.spans],
            }
            for trace in traces
        ]
    }


def native_bytes(traces: Iterable[GeneratedTrace]) -> bytes:
    return orjson.dumps(native_batch(traces))


def span_records(trace: GeneratedTrace, shape: Shape = "native") -> list[SpanRecord]:
    """Exactly what ``ingest.native.decode`` (``shape="native"``) or ``ingest.otlp``
    (``shape="otlp"``) makes of this trace, without encoding and decoding it."""
    records: list[SpanRecord] = []
    resource = _resource(trace.environment) if shape == "otlp" else {}
    for span in trace.spans:
        if shape == "otlp":
            # What OTLP ingest keeps: the attributes no column holds (ingest/conventions.py).
            sent = otlp_attributes(trace, span) | {"otel.scope.name": SCOPE_NAME}
            attributes = stored_attributes(sent)
        else:
            attributes = span.attributes
        records.append(
            {
                "trace_id": trace.trace_id,
                "span_id": span.span_id,
                "parent_span_id": span.parent_span_id,
                "name": span.name,
                "kind": span.kind,
                "status": span.status,
                "status_message": span.status_message,
                "start_time_unix_nano": span.start_time_unix_nano,
                "end_time_unix_nano": span.end_time_unix_nano,
                "model": span.model,
                "input_tokens": span.input_tokens,
                "output_tokens": span.output_tokens,
                "total_tokens": span.total_tokens,
                "cost": span.cost,
                "input": span.input,
                "output": span.output,
                "attributes": attributes,
                "resource": resource,
                "events": span.events,
                "error": span.error,
                "user_id": trace.user_id,
                "session_id": trace.session_id,
                "environment": trace.environment,
                "tags": trace.tags,
                "metadata": dict(trace.metadata),
            }
        )
    return records


def span_rows(
    project_id: uuid.UUID, traces: Iterable[GeneratedTrace], shape: Shape = "otlp"
) -> list[SpanRow]:
    """The storage worker's rows for ``traces`` (through ``workers.span_rows.to_row``)."""
    return [to_row(project_id, record) for trace in traces for record in span_records(trace, shape)]
