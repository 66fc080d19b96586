"""OpenTelemetry interop: one trace for AgentTrace spans and OpenTelemetry spans.

OTel to AgentTrace is automatic (``spans.start_span``): a root AgentTrace span started
while a sampled OpenTelemetry span is current joins that span's trace as its child.
AgentTrace to OTel is ``otel_context()``, for ``tracer.start_as_current_span(...,
context=...)``. Needs ``opentelemetry-api``, imported on the first call only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agenttrace_sdk.spans import _CURRENT, DISCARD, Span

if TYPE_CHECKING:
    from opentelemetry.context import Context


def otel_context(span: Span | None = None) -> Context:
    """The current OpenTelemetry context with ``span`` (default: the current AgentTrace
    span) as its span, so OTel spans started in it are children of ``span``:
    ``tracer.start_as_current_span("step", context=at.otel_context())``. The OTel spans are
    sampled when ``span``'s trace is. Without an AgentTrace span, or when the SDK is not
    initialised, the current OTel context unchanged. ImportError without
    ``opentelemetry-api``."""
    from opentelemetry import context as otel_context_api
    from opentelemetry import trace as otel_trace

    current = otel_context_api.get_current()
    span = span if span is not None else _CURRENT.get()
    if span is None or span.trace_id == "0" * 32:
        return current
    if span.trace.sampled and span._sink is DISCARD:  # not initialised: nothing to join
        return current
    flags = otel_trace.TraceFlags.SAMPLED if span.trace.sampled else otel_trace.TraceFlags.DEFAULT
    parent = otel_trace.NonRecordingSpan(
        otel_trace.SpanContext(
            trace_id=int(span.trace_id, 16),
            span_id=int(span.span_id, 16),
            is_remote=False,
            trace_flags=otel_trace.TraceFlags(flags),
        )
    )
    return otel_trace.set_span_in_context(parent, current)
