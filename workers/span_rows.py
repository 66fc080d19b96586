"""Turns a normalised span record into a ``spans`` row, and merges two rows of one span.

The merge here is the same rule the upsert applies in SQL (workers/span_store.py), used
when one batch holds the same span twice (start and end of a long span), since a single
``INSERT ... ON CONFLICT`` may not touch one row twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from messaging.span_batch import SPAN_KINDS, STATUSES, SpanRecord
from storage.otel_ids import InvalidId, span_id_from_hex, trace_id_from_hex


class InvalidSpan(ValueError):
    """A span record that can never be stored; the reason says why."""


SpanKey = tuple[uuid.UUID, uuid.UUID, int]

INDEXED_TEXT_MAX_BYTES = 512
"""Name, model, user, session, environment and tags are indexed, and a B-tree entry must
stay under about 2.7 KB. Longer values are cut here (marked with an ellipsis), and the
whole value is kept under TRUNCATED_ATTRIBUTE: refusing them would lose a valid span,
and storing them would fail every retry of the batch."""
TRUNCATED_ATTRIBUTE = "agenttrace.truncated"


@dataclass(frozen=True, slots=True)
class SpanRow:
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
    cost_source: str | None = None
    """CLIENT when the client sent the cost; the storage worker's pricing sets the rest
    (workers/span_costs.py)."""
    tokens_estimated: bool | None = None
    """True when the worker estimated the token counts (workers/span_costs.py)."""

    @property
    def key(self) -> SpanKey:
        return (self.project_id, self.trace_id, self.span_id)


def _time(nanos: Any, field: str) -> datetime:
    if not isinstance(nanos, int) or isinstance(nanos, bool) or nanos <= 0:
        raise InvalidSpan(f"{field} must be a positive integer of Unix nanoseconds")
    try:
        # Integer arithmetic: a float of ~1.7e18 ns would round microseconds unpredictably.
        seconds, rest = divmod(nanos, 1_000_000_000)
        return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(microseconds=rest // 1000)
    except (OverflowError, OSError, ValueError):
        raise InvalidSpan(f"{field} is out of range") from None


def _optional_int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise InvalidSpan(f"{field} must be a non-negative integer")
    return value


def _optional_str(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidSpan(f"{field} must be a string")
    return value


def _cut(value: str) -> str:
    encoded = value.encode()
    if len(encoded) <= INDEXED_TEXT_MAX_BYTES:
        return value
    return encoded[: INDEXED_TEXT_MAX_BYTES - 3].decode(errors="ignore") + "\u2026"


def _too_long(value: str) -> bool:
    # Up to a quarter of the limit in characters is within it in UTF-8 bytes: the common
    # case needs no encoding (this runs for six fields of every span stored).
    return len(value) > INDEXED_TEXT_MAX_BYTES // 4 and len(value.encode()) > INDEXED_TEXT_MAX_BYTES


def bound_indexed_text(row: SpanRow) -> SpanRow:
    """The row with over-long indexed text cut; the originals move to the attributes."""
    originals: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for field in ("name", "model", "user_id", "session_id", "environment"):
        value = getattr(row, field)
        if isinstance(value, str) and _too_long(value):
            originals[field] = value
            changes[field] = _cut(value)
    for tag in row.tags:  # a loop, not any(genexpr): this runs for every span stored
        if _too_long(tag):
            originals["tags"] = row.tags
            changes["tags"] = [_cut(t) for t in row.tags]
            break
    if not originals:
        return row
    return replace(row, **changes, attributes=row.attributes | {TRUNCATED_ATTRIBUTE: originals})


def to_row(project_id: uuid.UUID, record: SpanRecord) -> SpanRow:
    """Validates one record; raises InvalidSpan naming the first problem."""
    if not isinstance(record, dict):
        raise InvalidSpan("a span must be an object")
    try:
        trace_id = trace_id_from_hex(str(record.get("trace_id", "")))
        span_id = span_id_from_hex(str(record.get("span_id", "")))
        parent_hex = record.get("parent_span_id")
        parent = span_id_from_hex(str(parent_hex)) if parent_hex else None
    except InvalidId as exc:
        raise InvalidSpan(str(exc)) from None
    name = record.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidSpan("name must be a non-empty string")
    start = _time(record.get("start_time_unix_nano"), "start_time_unix_nano")
    end_nanos = record.get("end_time_unix_nano")
    end = None if end_nanos is None else _time(end_nanos, "end_time_unix_nano")
    kind = record.get("kind", "SPAN")
    status = record.get("status", "UNSET")
    if kind not in SPAN_KINDS:
        raise InvalidSpan(f"kind must be one of {sorted(SPAN_KINDS)}")
    if status not in STATUSES:
        raise InvalidSpan(f"status must be one of {sorted(STATUSES)}")
    cost = record.get("cost")
    if cost is not None and (not isinstance(cost, int | float) or isinstance(cost, bool)):
        raise InvalidSpan("cost must be a number")
    tags = record.get("tags") or []
    if not isinstance(tags, list):
        raise InvalidSpan("tags must be a list of strings")
    for tag in tags:
        if not isinstance(tag, str):
            raise InvalidSpan("tags must be a list of strings")
    for field in ("attributes", "resource", "metadata"):
        if not isinstance(record.get(field, {}), dict):
            raise InvalidSpan(f"{field} must be an object")
    events = record.get("events") or []
    if not isinstance(events, list):
        raise InvalidSpan("events must be a list")
    error = record.get("error")
    if error is not None and not isinstance(error, dict):
        raise InvalidSpan("error must be an object")
    row = SpanRow(
        project_id=project_id,
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind=kind,
        status=status,
        status_message=_optional_str(record.get("status_message"), "status_message"),
        start_time=start,
        end_time=end,
        model=_optional_str(record.get("model"), "model"),
        input_tokens=_optional_int(record.get("input_tokens"), "input_tokens"),
        output_tokens=_optional_int(record.get("output_tokens"), "output_tokens"),
        total_tokens=_optional_int(record.get("total_tokens"), "total_tokens"),
        cost=None if cost is None else float(cost),
        input=record.get("input"),
        output=record.get("output"),
        attributes=record.get("attributes") or {},
        resource=record.get("resource") or {},
        events=events,
        error=error,
        user_id=_optional_str(record.get("user_id"), "user_id"),
        session_id=_optional_str(record.get("session_id"), "session_id"),
        environment=_optional_str(record.get("environment"), "environment"),
        tags=tags,
        metadata=record.get("metadata") or {},
        cost_source=None if cost is None else "CLIENT",
        # Reported counts are never estimated: False (not None) wins the merge over a
        # copy of the span whose counts the worker had to estimate.
        tokens_estimated=False
        if any(record.get(f) is not None for f in ("input_tokens", "output_tokens", "total_tokens"))
        else None,
    )
    return bound_indexed_text(row)


def _first(a: Any, b: Any) -> Any:
    return a if a is not None else b


def _client_cost_wins(stored: SpanRow, incoming: SpanRow) -> bool:
    """A cost the client sent replaces one the worker computed, whichever came first."""
    return incoming.cost_source == "CLIENT" and stored.cost_source != "CLIENT"


def merge(stored: SpanRow, incoming: SpanRow) -> SpanRow:
    """What the upsert makes of ``stored`` when ``incoming`` arrives; see span_store.UPSERT."""
    client_wins = _client_cost_wins(stored, incoming)
    return replace(
        stored,
        parent_span_id=_first(stored.parent_span_id, incoming.parent_span_id),
        kind=incoming.kind if stored.kind == "SPAN" else stored.kind,
        status=incoming.status if stored.status == "UNSET" else stored.status,
        status_message=_first(stored.status_message, incoming.status_message),
        start_time=min(stored.start_time, incoming.start_time),
        end_time=max(
            (t for t in (stored.end_time, incoming.end_time) if t is not None), default=None
        ),
        model=_first(stored.model, incoming.model),
        input_tokens=_first(stored.input_tokens, incoming.input_tokens),
        output_tokens=_first(stored.output_tokens, incoming.output_tokens),
        total_tokens=_first(stored.total_tokens, incoming.total_tokens),
        cost=incoming.cost if client_wins else _first(stored.cost, incoming.cost),
        cost_source=_first(incoming.cost_source, stored.cost_source)
        if client_wins or stored.cost is None
        else stored.cost_source,
        tokens_estimated=_first(stored.tokens_estimated, incoming.tokens_estimated),
        input=_first(stored.input, incoming.input),
        output=_first(stored.output, incoming.output),
        attributes=incoming.attributes | stored.attributes,
        resource=incoming.resource | stored.resource,
        events=stored.events or incoming.events,
        error=_first(stored.error, incoming.error),
        user_id=_first(stored.user_id, incoming.user_id),
        session_id=_first(stored.session_id, incoming.session_id),
        environment=_first(stored.environment, incoming.environment),
        tags=stored.tags or incoming.tags,
        metadata=incoming.metadata | stored.metadata,
    )


def merge_duplicates(rows: list[SpanRow]) -> list[SpanRow]:
    """One row per span, merged in arrival order."""
    merged: dict[SpanKey, SpanRow] = {}
    for row in rows:
        key = (row.project_id, row.trace_id, row.span_id)  # SpanRow.key, without the call
        existing = merged.get(key)
        merged[key] = row if existing is None else merge(existing, row)
    return list(merged.values())
