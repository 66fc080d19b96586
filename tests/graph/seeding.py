"""Writes spans through the storage worker's own upsert, so tests read what the
pipeline would have stored."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.live_events import LiveEvents, project_channel
from messaging.span_batch import SpanRecord
from storage.otel_ids import span_id_to_hex, trace_id_to_hex
from workers.span_rows import merge_duplicates, to_row
from workers.span_store import store_spans
from workers.trace_events import live_event


def nanos(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000) * 1000


class TraceBuilder:
    """Builds one trace's span records; ids are random unless given."""

    def __init__(self, start: datetime, **trace_fields: Any) -> None:
        self.trace_id = trace_id_to_hex(uuid.uuid4())
        self.start = start
        self.trace_fields = trace_fields
        self.records: list[SpanRecord] = []

    def span(
        self,
        name: str,
        *,
        parent: str | None = None,
        offset_ms: float = 0,
        duration_ms: float | None = 10,
        **fields: Any,
    ) -> str:
        span_id = span_id_to_hex(uuid.uuid4().int >> 65)
        begin = self.start + timedelta(milliseconds=offset_ms)
        record: dict[str, Any] = {
            "trace_id": self.trace_id,
            "span_id": span_id,
            "parent_span_id": parent,
            "name": name,
            "start_time_unix_nano": nanos(begin),
            "end_time_unix_nano": None
            if duration_ms is None
            else nanos(begin + timedelta(milliseconds=duration_ms)),
        }
        self.records.append(record | self.trace_fields | fields)  # type: ignore[arg-type]
        return span_id


async def store(engine: AsyncEngine, project_id: uuid.UUID, *traces: TraceBuilder) -> None:
    await store_and_announce(engine, project_id, *traces)


async def store_and_announce(
    engine: AsyncEngine,
    project_id: uuid.UUID,
    *traces: TraceBuilder,
    live: LiveEvents | None = None,
) -> None:
    """Stores the spans, then (given ``live``) publishes the storage worker's own live
    events for them, as the worker does after each batch."""
    rows = merge_duplicates([to_row(project_id, r) for t in traces for r in t.records])
    async with engine.begin() as conn:
        stored = await store_spans(conn, rows)
    if live is None:
        return
    for trace in stored:
        spans = [r for r in rows if r.trace_id == trace.trace_id]
        await live.publish(project_channel(project_id), live_event(trace, spans))
