"""The REST API's JSON shapes for traces and spans (ids as OTel hex strings)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from resolvers.records import SpanData, TraceData
from storage.otel_ids import span_id_to_hex, trace_id_to_hex


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _span_hex(value: int | None) -> str | None:
    return span_id_to_hex(value) if value is not None else None


def trace_json(trace: TraceData) -> dict[str, Any]:
    return {
        "trace_id": trace_id_to_hex(trace.trace_id),
        "name": trace.name,
        "status": trace.status,
        "start_time": _iso(trace.start_time),
        "end_time": _iso(trace.end_time),
        "duration_ms": trace.duration_ms,
        "root_span_id": _span_hex(trace.root_span_id),
        "span_count": trace.span_count,
        "error_count": trace.error_count,
        "input_tokens": trace.input_tokens,
        "output_tokens": trace.output_tokens,
        "total_tokens": trace.total_tokens,
        "cost": trace.cost,
        "user_id": trace.user_id,
        "session_id": trace.session_id,
        "environment": trace.environment,
        "tags": trace.tags,
        "metadata": trace.metadata,
    }


def span_json(span: SpanData) -> dict[str, Any]:
    return {
        "span_id": span_id_to_hex(span.span_id),
        "parent_span_id": _span_hex(span.parent_span_id),
        "name": span.name,
        "kind": span.kind,
        "status": span.status,
        "status_message": span.status_message,
        "start_time": _iso(span.start_time),
        "end_time": _iso(span.end_time),
        "duration_ms": span.duration_ms,
        "model": span.model,
        "input_tokens": span.input_tokens,
        "output_tokens": span.output_tokens,
        "total_tokens": span.total_tokens,
        "cost": span.cost,
        "cost_source": span.cost_source,
        "tokens_estimated": bool(span.tokens_estimated),
        "input": span.input,
        "output": span.output,
        "attributes": span.attributes,
        "resource": span.resource,
        "events": span.events,
        "error": span.error,
        "user_id": span.user_id,
        "session_id": span.session_id,
        "environment": span.environment,
        "tags": span.tags,
        "metadata": span.metadata,
    }
