"""Traces and spans as read from PostgreSQL: the one shape every reader works with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import RowMapping

TRACE_COLUMNS = """project_id, trace_id, name, status, start_time, end_time, duration_ms,
    root_span_id, span_count, error_count, input_tokens, output_tokens, total_tokens, cost,
    user_id, session_id, environment, tags, metadata, created_at, updated_at"""

SPAN_COLUMNS = """project_id, trace_id, span_id, parent_span_id, name, kind, status,
    status_message, start_time, end_time, model, input_tokens, output_tokens, total_tokens,
    cost, input, output, attributes, resource, events, error, user_id, session_id,
    environment, tags, metadata, updated_at, cost_source, tokens_estimated"""

SPAN_PAYLOAD_FIELDS = ("input", "output", "attributes", "resource", "events", "error", "metadata")
"""The large columns: a tree or waterfall of thousands of spans needs none of them."""

SPAN_OUTLINE_COLUMNS = ", ".join(
    column
    for column in (c.strip() for c in SPAN_COLUMNS.split(","))
    if column not in SPAN_PAYLOAD_FIELDS
)

TraceKey = tuple[uuid.UUID, uuid.UUID]
"""(project id, trace id)"""
SpanKey = tuple[uuid.UUID, uuid.UUID, int]
"""(project id, trace id, span id)"""


@dataclass(frozen=True, slots=True)
class TraceData:
    project_id: uuid.UUID
    trace_id: uuid.UUID
    name: str
    status: str
    start_time: datetime
    end_time: datetime | None
    duration_ms: float | None
    root_span_id: int | None
    span_count: int
    error_count: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: float
    user_id: str | None
    session_id: str | None
    environment: str | None
    tags: list[str]
    metadata: dict[str, Any]
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def key(self) -> TraceKey:
        return (self.project_id, self.trace_id)

    @classmethod
    def from_row(cls, row: RowMapping) -> TraceData:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class SpanData:
    project_id: uuid.UUID
    trace_id: uuid.UUID
    span_id: int
    parent_span_id: int | None
    name: str
    kind: str
    status: str
    status_message: str | None
    start_time: datetime
    end_time: datetime | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    cost: float | None
    input: Any
    output: Any
    attributes: dict[str, Any]
    resource: dict[str, Any]
    events: list[Any]
    error: dict[str, Any] | None
    user_id: str | None
    session_id: str | None
    environment: str | None
    tags: list[str]
    metadata: dict[str, Any]
    updated_at: datetime | None
    cost_source: str | None = None
    """Where ``cost`` came from (workers/span_costs.py); None for other than model calls."""
    tokens_estimated: bool | None = None
    has_payload: bool = True
    """False for an outline: the SPAN_PAYLOAD_FIELDS were not read and are empty."""

    @property
    def key(self) -> SpanKey:
        return (self.project_id, self.trace_id, self.span_id)

    @property
    def trace_key(self) -> TraceKey:
        return (self.project_id, self.trace_id)

    @property
    def duration_ms(self) -> float | None:
        if self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds() * 1000

    @classmethod
    def from_row(cls, row: RowMapping) -> SpanData:
        fields = cls.__dataclass_fields__
        return cls(**{name: row[name] for name in fields if name != "has_payload"})

    @classmethod
    def outline_from_row(cls, row: RowMapping) -> SpanData:
        """A span read with SPAN_OUTLINE_COLUMNS."""
        empty: dict[str, Any] = {
            "input": None,
            "output": None,
            "attributes": {},
            "resource": {},
            "events": [],
            "error": None,
            "metadata": {},
            "has_payload": False,
        }
        fields = {name: row[name] for name in cls.__dataclass_fields__ if name not in empty}
        return cls(**fields, **empty)
