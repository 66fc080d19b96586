"""The ``trace.updated`` event the storage worker emits for each trace a batch touched.

It carries the trace's whole stored row, so a live subscriber can show the trace (a
GraphQL ``Trace``) without reading the database. Ids are lowercase hex as everywhere in
the API; times are ISO 8601. The ``trace-events`` topic gets the same event without the
``spans`` list, which only the live view needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from storage.otel_ids import span_id_to_hex, trace_id_to_hex
from workers.span_rows import SpanRow
from workers.span_store import StoredTrace

TRACE_UPDATED = "trace.updated"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def trace_event(trace: StoredTrace) -> dict[str, Any]:
    return {
        "type": TRACE_UPDATED,
        "project_id": str(trace.project_id),
        "trace_id": trace_id_to_hex(trace.trace_id),
        "name": trace.name,
        "status": trace.status,
        "start_time": _iso(trace.start_time),
        "end_time": _iso(trace.end_time),
        "duration_ms": trace.duration_ms,
        "root_span_id": None if trace.root_span_id is None else span_id_to_hex(trace.root_span_id),
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
        "created_at": _iso(trace.created_at),
        "updated_at": _iso(trace.updated_at),
    }


def span_summary(row: SpanRow) -> dict[str, Any]:
    """What this batch said about one span (not the merged stored row): enough to draw
    the span in a live tree; its details are one query away."""
    return {
        "span_id": span_id_to_hex(row.span_id),
        "parent_span_id": None
        if row.parent_span_id is None
        else span_id_to_hex(row.parent_span_id),
        "name": row.name,
        "kind": row.kind,
        "status": row.status,
        "start_time": _iso(row.start_time),
        "ended": row.end_time is not None,
    }


def live_event(trace: StoredTrace, spans: Iterable[SpanRow]) -> dict[str, Any]:
    """``spans``: this batch's rows of the trace, one per span (merged duplicates)."""
    ordered = sorted(spans, key=lambda r: (r.start_time, r.span_id))
    return trace_event(trace) | {"spans": [span_summary(r) for r in ordered]}
