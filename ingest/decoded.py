"""What a decoder gives back: the valid spans, and one error per rejected span."""

from __future__ import annotations

from dataclasses import dataclass, field

from messaging.span_batch import SpanRecord


@dataclass(frozen=True, slots=True)
class RejectedSpan:
    index: int
    """Position of the span in the request, counting every span in document order."""
    span_id: str | None
    error: str


@dataclass(slots=True)
class DecodedBatch:
    spans: list[SpanRecord] = field(default_factory=list)
    rejected: list[RejectedSpan] = field(default_factory=list)
