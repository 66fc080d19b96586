"""Publishes normalised spans: one bus message per trace, keyed to keep it in order."""

from __future__ import annotations

import uuid

from messaging import span_batch, topics
from messaging.bus import Bus, OutgoingMessage
from messaging.span_batch import CORRELATION_HEADER, SpanRecord


async def publish_spans(
    bus: Bus, project_id: uuid.UUID, spans: list[SpanRecord], correlation_id: str
) -> None:
    """Returns once the bus acknowledged every span; raises BusUnavailable otherwise."""
    by_trace: dict[str, list[SpanRecord]] = {}
    for span in spans:
        by_trace.setdefault(span["trace_id"], []).append(span)
    await bus.publish(
        [
            OutgoingMessage(
                topic=topics.SPANS,
                key=span_batch.message_key(project_id, trace_id),
                value=span_batch.encode(project_id, trace_spans),
                headers=((CORRELATION_HEADER, correlation_id.encode()),),
            )
            for trace_id, trace_spans in by_trace.items()
        ]
    )
