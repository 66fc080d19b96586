"""Reads the storage worker's ``trace.updated`` live events (workers/trace_events.py):
each carries the stored trace row, so a subscription serves a Trace without a query."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from resolvers.records import SpanKey, TraceData
from storage.otel_ids import span_id_from_hex, trace_id_from_hex


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def trace_from_event(event: dict[str, Any]) -> TraceData:
    root = event.get("root_span_id")
    start = _time(event["start_time"])
    assert start is not None, "a stored trace always has a start time"
    return TraceData(
        project_id=uuid.UUID(event["project_id"]),
        trace_id=trace_id_from_hex(event["trace_id"]),
        name=event["name"],
        status=event["status"],
        start_time=start,
        end_time=_time(event.get("end_time")),
        duration_ms=event.get("duration_ms"),
        root_span_id=span_id_from_hex(root) if root else None,
        span_count=event["span_count"],
        error_count=event["error_count"],
        input_tokens=event.get("input_tokens", 0),
        output_tokens=event.get("output_tokens", 0),
        total_tokens=event.get("total_tokens", 0),
        cost=event.get("cost", 0.0),
        user_id=event.get("user_id"),
        session_id=event.get("session_id"),
        environment=event.get("environment"),
        tags=event.get("tags", []),
        metadata=event.get("metadata", {}),
        created_at=_time(event.get("created_at")),
        updated_at=_time(event.get("updated_at")),
    )


def span_keys_from_event(event: dict[str, Any]) -> list[SpanKey]:
    """The spans this event's batch wrote, in the order the worker listed them."""
    project_id = uuid.UUID(event["project_id"])
    trace_id = trace_id_from_hex(event["trace_id"])
    return [(project_id, trace_id, span_id_from_hex(s["span_id"])) for s in event.get("spans", [])]
