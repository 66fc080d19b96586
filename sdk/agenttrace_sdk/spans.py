"""Spans, their trace, and the current span (a context variable, so it follows asyncio
tasks; threads get it through ``agenttrace_sdk.threads``).

A span knows where to report itself (its sink) from the moment it starts: the exporter's
processor when its trace is sampled, nothing otherwise. Setters never raise.
"""

from __future__ import annotations

import contextlib
import random
import sys
import time
import traceback
from contextvars import ContextVar
from typing import Any, Callable

from agenttrace_sdk.capture import to_jsonable

KINDS = frozenset(
    {
        "AGENT",
        "LLM",
        "TOOL",
        "CHAIN",
        "RETRIEVER",
        "EMBEDDING",
        "RERANKER",
        "GUARDRAIL",
        "EVALUATOR",
        "SPAN",
    }
)
STATUSES = frozenset({"UNSET", "OK", "ERROR"})


def check_kind(kind: str) -> str:
    """The kind, upper-cased; ValueError names the known kinds."""
    upper = kind.upper()
    if upper not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(KINDS))}, got {kind!r}")
    return upper


class SpanSink:
    """Where spans report: the base class discards them (unsampled or not initialised)."""

    def on_start(self, span: Span) -> None:
        pass

    def on_end(self, span: Span) -> None:
        pass


class Runtime:
    """What new spans need from ``init()``: the sink, the sampling rate, the capture switch
    and the trace-wide defaults. Replaced as a whole, so a span sees one consistent set."""

    __slots__ = ("capture", "environment", "release", "sample_rate", "sink")

    def __init__(
        self,
        sink: SpanSink,
        sample_rate: float = 1.0,
        capture: bool = True,
        environment: str | None = None,
        release: str | None = None,
    ) -> None:
        self.sink = sink
        self.sample_rate = sample_rate
        self.capture = capture
        self.environment = environment
        self.release = release


DISCARD = SpanSink()  # spans reporting here are not recording: nothing is captured
_runtime = Runtime(DISCARD)


def install(runtime: Runtime) -> Runtime:
    """Makes ``runtime`` the one new spans use; returns the previous one."""
    global _runtime
    previous, _runtime = _runtime, runtime
    return previous


def runtime() -> Runtime:
    return _runtime


def _new_id(bits: int) -> str:
    value = 0
    while value == 0:
        value = random.getrandbits(bits)
    return format(value, f"0{bits // 4}x")


class Trace:
    """Fields shared by every span of one trace. Spans carry them as they are when each
    span is exported, so set them early (``update_current_trace``) to see them on all."""

    __slots__ = (
        "environment",
        "metadata",
        "release",
        "sampled",
        "session_id",
        "tags",
        "trace_id",
        "user_id",
    )

    def __init__(
        self,
        trace_id: str,
        sampled: bool,
        environment: str | None = None,
        release: str | None = None,
    ) -> None:
        self.trace_id = trace_id
        self.sampled = sampled
        self.environment = environment
        self.release = release
        self.user_id: str | None = None
        self.session_id: str | None = None
        self.tags: list[str] = []
        self.metadata: dict[str, Any] = {}


class Span:
    """One unit of work. Set fields with the ``set_*`` methods; ``end()`` reports it
    (a second ``end()`` does nothing)."""

    __slots__ = (
        "_sink",
        "attributes",
        "capture",
        "cost",
        "end_ns",
        "error",
        "events",
        "input",
        "input_tokens",
        "kind",
        "live_sent",
        "metadata",
        "model",
        "name",
        "output",
        "output_tokens",
        "parent_span_id",
        "session_id",
        "span_id",
        "start_ns",
        "status",
        "status_message",
        "tags",
        "total_tokens",
        "trace",
        "user_id",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        trace: Trace,
        parent_span_id: str | None,
        sink: SpanSink,
        capture: bool,
        start_ns: int | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.trace = trace
        self.span_id = _new_id(64)
        self.parent_span_id = parent_span_id
        self.start_ns = start_ns if start_ns is not None else time.time_ns()
        self.end_ns: int | None = None
        self.status = "UNSET"
        self.status_message: str | None = None
        self.capture = capture
        self.input: Any = None
        self.output: Any = None
        self.model: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.total_tokens: int | None = None
        self.cost: float | None = None
        self.attributes: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.error: dict[str, str | None] | None = None
        self.user_id: str | None = None
        self.session_id: str | None = None
        self.tags: list[str] | None = None
        self.metadata: dict[str, Any] | None = None
        self.live_sent = False
        self._sink = sink
        sink.on_start(self)

    @property
    def trace_id(self) -> str:
        return self.trace.trace_id

    @property
    def ended(self) -> bool:
        return self.end_ns is not None

    @property
    def recording(self) -> bool:
        """False when the trace was sampled out or the SDK is not initialised."""
        return self._sink is not DISCARD and self.trace.sampled

    # Setters: each returns the span, so calls chain.
    def set_name(self, name: str) -> Span:
        self.name = str(name) or self.name
        return self

    def set_input(self, value: Any) -> Span:
        """Records ``value`` (a JSON-ready copy) unless capture is off for this span."""
        if self.capture:
            self.input = to_jsonable(value)
        return self

    def set_output(self, value: Any) -> Span:
        if self.capture:
            self.output = to_jsonable(value)
        return self

    def set_model(self, model: str | None) -> Span:
        self.model = None if model is None else str(model)
        return self

    def set_tokens(
        self,
        input: int | None = None,
        output: int | None = None,
        total: int | None = None,
    ) -> Span:
        """Token counts; the server adds input and output when total is not given."""
        self.input_tokens = _count(input, self.input_tokens)
        self.output_tokens = _count(output, self.output_tokens)
        self.total_tokens = _count(total, self.total_tokens)
        return self

    def set_cost(self, cost: float | None) -> Span:
        with contextlib.suppress(TypeError, ValueError):
            self.cost = None if cost is None else max(0.0, float(cost))
        return self

    def set_attribute(self, key: str, value: Any) -> Span:
        self.attributes[str(key)] = to_jsonable(value)
        return self

    def set_attributes(self, attributes: dict[str, Any]) -> Span:
        for key, value in attributes.items():
            self.set_attribute(key, value)
        return self

    def add_event(self, name: str, attributes: dict[str, Any] | None = None) -> Span:
        event: dict[str, Any] = {"name": str(name), "time_unix_nano": time.time_ns()}
        if attributes:
            event["attributes"] = to_jsonable(attributes)
        self.events.append(event)
        return self

    def set_tags(self, tags: list[str]) -> Span:
        """This span's tags (the trace's tags apply when a span sets none)."""
        self.tags = [str(t) for t in tags]
        return self

    def set_metadata(self, metadata: dict[str, Any]) -> Span:
        """Merged over the trace's metadata on the server."""
        self.metadata = {**(self.metadata or {}), **to_jsonable(metadata)}
        return self

    def set_user_id(self, user_id: str | None) -> Span:
        self.user_id = None if user_id is None else str(user_id)
        return self

    def set_session_id(self, session_id: str | None) -> Span:
        self.session_id = None if session_id is None else str(session_id)
        return self

    def set_status(self, status: str, message: str | None = None) -> Span:
        """UNSET, OK or ERROR (anything else is ignored)."""
        if status.upper() in STATUSES:
            self.status = status.upper()
            self.status_message = message
        return self

    def record_exception(self, exc: BaseException) -> Span:
        """Type, message and traceback text of ``exc``; marks the span ERROR."""
        try:
            stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        except Exception:  # noqa: BLE001  a hostile exception still gets its type recorded
            stack = None
        kind = type(exc)
        module = kind.__module__
        name = kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
        return self.record_error(name, _safe_str(exc), stack)

    def record_error(self, error_type: str, message: str, stack: str | None = None) -> Span:
        """An error known only by name and text (a framework that reports failures as
        strings); marks the span ERROR."""
        self.error = {"type": str(error_type), "message": str(message), "stack": stack}
        self.status = "ERROR"
        self.status_message = str(message) or str(error_type)
        return self

    def end(self, end_ns: int | None = None) -> None:
        """Ends and reports the span; later calls do nothing."""
        if self.end_ns is not None:
            return
        self.end_ns = max(end_ns if end_ns is not None else time.time_ns(), self.start_ns)
        if self.status == "UNSET" and self.error is None:
            self.status = "OK"
        self._sink.on_end(self)


def _count(value: int | None, current: int | None) -> int | None:
    if value is None:
        return current
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return current


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001
        return f"<unprintable {type(exc).__qualname__}>"


_CURRENT: ContextVar[Span | None] = ContextVar("agenttrace_current_span", default=None)


_otel_get_current_span: Callable[[], Any] | None = None


def _otel_parent() -> tuple[str, str] | None:
    """(trace id, span id) of the current OpenTelemetry span when there is a valid, sampled
    one. OpenTelemetry is never imported here: while nothing has imported
    ``opentelemetry.trace`` no OTel span can be current, so that costs one dict lookup."""
    global _otel_get_current_span
    lookup = _otel_get_current_span
    if lookup is None:
        module = sys.modules.get("opentelemetry.trace")
        lookup = getattr(module, "get_current_span", None) if module is not None else None
        if lookup is None:
            return None
        _otel_get_current_span = lookup
    try:
        context = lookup().get_span_context()
        if not context.is_valid or not context.trace_flags.sampled:
            return None
        return format(context.trace_id, "032x"), format(context.span_id, "016x")
    except Exception:  # noqa: BLE001  a broken OTel setup must not break tracing
        return None


def start_span(
    name: str,
    kind: str = "SPAN",
    *,
    parent: Span | None = None,
    capture: bool | None = None,
    start_ns: int | None = None,
) -> Span:
    """A started span, child of ``parent`` (default: the current span), or a root span whose
    sampling is decided here: of a new trace, or, when an OpenTelemetry span is current
    (and sampled), a child of it in its trace. It is not made current (see ``use_span``);
    call ``end()`` on it. ValueError for an unknown kind."""
    kind = check_kind(kind)
    rt = _runtime
    parent = parent if parent is not None else _CURRENT.get()
    if parent is not None:
        trace = parent.trace
        parent_id: str | None = parent.span_id
    else:
        sampled = rt.sample_rate >= 1.0 or random.random() < rt.sample_rate
        otel = _otel_parent()
        trace_id, parent_id = otel if otel is not None else (_new_id(128), None)
        trace = Trace(trace_id, sampled, rt.environment, rt.release)
    sink = rt.sink if trace.sampled else DISCARD
    enabled = rt.capture if capture is None else (capture and rt.capture)
    return Span(name, kind, trace, parent_id, sink, enabled, start_ns)


class use_span:
    """Makes ``span`` current inside the block; with ``end_on_exit``, ends it after (an
    escaping exception is recorded on it and re-raised)."""

    def __init__(self, span: Span, end_on_exit: bool = False) -> None:
        self._span = span
        self._end = end_on_exit
        self._tokens: list[Any] = []

    def __enter__(self) -> Span:
        self._tokens.append(_CURRENT.set(self._span))
        return self._span

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        _CURRENT.reset(self._tokens.pop())
        if self._end:
            if exc is not None and not isinstance(exc, GeneratorExit):
                self._span.record_exception(exc)
            self._span.end()


def current_span() -> Span:
    """The current span; outside any span, a detached span whose setters go nowhere (so
    ``current_span().set_model(...)`` is always safe)."""
    found = _CURRENT.get()
    if found is not None:
        return found
    return Span("detached", "SPAN", Trace("0" * 32, False), None, DISCARD, False)


def update_current_trace(
    *,
    user_id: str | None = None,
    session_id: str | None = None,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Sets trace-wide fields on the current trace: tags are added, metadata merged. Does
    nothing outside a span."""
    found = _CURRENT.get()
    if found is None:
        return
    trace = found.trace
    if user_id is not None:
        trace.user_id = str(user_id)
    if session_id is not None:
        trace.session_id = str(session_id)
    if tags:
        trace.tags = [*trace.tags, *(str(t) for t in tags if str(t) not in trace.tags)]
    if metadata:
        trace.metadata = {**trace.metadata, **to_jsonable(metadata)}
