"""The native JSON batch (``POST /api/v1/traces``), designed for our SDK.

```json
{"traces": [{"trace_id": "<32 hex>", "user_id": "u1", "session_id": "s1",
             "environment": "prod", "tags": ["a"], "metadata": {"k": "v"},
             "spans": [{"span_id": "<16 hex>", "parent_span_id": null, "name": "agent",
                        "kind": "AGENT", "start_time": "2026-01-01T00:00:00Z",
                        "end_time": 1767225600123000000, "status": "OK",
                        "model": "gpt-4o", "input_tokens": 10, "output_tokens": 5,
                        "cost": 0.001, "input": {...}, "output": "...",
                        "attributes": {}, "events": [], "error": null}]}]}
```

Times are ISO 8601 strings or Unix nanoseconds. Trace-level user, session, environment,
tags and metadata apply to each span that does not set its own. A span that fails
validation is rejected on its own; the rest of the batch is kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from ingest.decoded import DecodedBatch, RejectedSpan
from ingest.errors import InvalidBatch, MalformedBody
from messaging.span_batch import SPAN_KINDS, SpanRecord


def _not_all_zeros(value: str) -> str:
    # OpenTelemetry's invalid id: storage would refuse it after ingest acknowledged it.
    if not value.strip("0"):
        raise ValueError("an id of all zeros is invalid")
    return value


TraceIdHex = Annotated[
    str, StringConstraints(pattern=r"^[0-9a-fA-F]{32}$"), AfterValidator(_not_all_zeros)
]
SpanIdHex = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{16}$")]
OwnSpanIdHex = Annotated[SpanIdHex, AfterValidator(_not_all_zeros)]


def _known_kind(kind: str) -> str:
    if kind not in SPAN_KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(SPAN_KINDS))}")
    return kind


Kind = Annotated[str, AfterValidator(_known_kind)]
Timestamp = datetime | Annotated[int, Field(gt=0)]
Count = Annotated[int, Field(ge=0)]


class NativeError(BaseModel):
    type: str | None = None
    message: str | None = None
    stack: str | None = None


class NativeSpan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    span_id: OwnSpanIdHex
    parent_span_id: SpanIdHex | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    kind: Kind = "SPAN"
    status: Literal["UNSET", "OK", "ERROR"] = "UNSET"
    status_message: str | None = None
    start_time: Timestamp
    end_time: Timestamp | None = None
    model: str | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    total_tokens: Count | None = None
    cost: Annotated[float, Field(ge=0)] | None = None
    input: Any = None
    output: Any = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    events: list[dict[str, Any]] = Field(default_factory=list)
    error: NativeError | None = None
    user_id: str | None = None
    session_id: str | None = None
    environment: str | None = None
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None


class NativeTrace(BaseModel):
    trace_id: TraceIdHex
    user_id: str | None = None
    session_id: str | None = None
    environment: str | None = None
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    spans: list[dict[str, Any]]


class NativeBatch(BaseModel):
    traces: list[dict[str, Any]]


def _nanos(value: datetime | int) -> int:
    if isinstance(value, int):
        return value
    if value.tzinfo is None:
        raise ValueError("timestamps need a timezone (use Z for UTC)")
    return int(value.timestamp() * 1_000_000) * 1000


def _record(trace: NativeTrace, span: NativeSpan) -> SpanRecord:
    start = _nanos(span.start_time)
    end = _nanos(span.end_time) if span.end_time is not None else None
    if end is not None and end < start:
        raise ValueError("end_time is before start_time")
    total = span.total_tokens
    if total is None and (span.input_tokens is not None or span.output_tokens is not None):
        total = (span.input_tokens or 0) + (span.output_tokens or 0)
    return {
        "trace_id": trace.trace_id.lower(),
        "span_id": span.span_id.lower(),
        "parent_span_id": span.parent_span_id.lower() if span.parent_span_id else None,
        "name": span.name,
        "kind": span.kind,
        "status": "ERROR" if span.error is not None and span.status == "UNSET" else span.status,
        "status_message": span.status_message,
        "start_time_unix_nano": start,
        "end_time_unix_nano": end,
        "model": span.model,
        "input_tokens": span.input_tokens,
        "output_tokens": span.output_tokens,
        "total_tokens": total,
        "cost": span.cost,
        "input": span.input,
        "output": span.output,
        "attributes": span.attributes,
        "resource": {},
        "events": span.events,
        "error": span.error.model_dump() if span.error is not None else None,
        "user_id": span.user_id or trace.user_id,
        "session_id": span.session_id or trace.session_id,
        "environment": span.environment or trace.environment,
        "tags": span.tags if span.tags is not None else trace.tags,
        "metadata": trace.metadata | (span.metadata or {}),
    }


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def decode(body: bytes) -> DecodedBatch:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"body is not valid JSON: {exc}") from None
    try:
        batch = NativeBatch.model_validate(document)
    except ValidationError as exc:
        raise InvalidBatch(f"not a trace batch: {_first_error(exc)}") from None
    decoded = DecodedBatch()
    index = 0
    for t_index, raw_trace in enumerate(batch.traces):
        try:
            trace = NativeTrace.model_validate(raw_trace)
        except ValidationError as exc:
            spans = raw_trace.get("spans") if isinstance(raw_trace, dict) else None
            count = len(spans) if isinstance(spans, list) else 1
            for _ in range(count):
                decoded.rejected.append(
                    RejectedSpan(index, None, f"traces[{t_index}]: {_first_error(exc)}")
                )
                index += 1
            continue
        for raw_span in trace.spans:
            span_id = raw_span.get("span_id") if isinstance(raw_span, dict) else None
            try:
                decoded.spans.append(_record(trace, NativeSpan.model_validate(raw_span)))
            except ValidationError as exc:
                decoded.rejected.append(
                    RejectedSpan(index, str(span_id) if span_id else None, _first_error(exc))
                )
            except ValueError as exc:
                decoded.rejected.append(
                    RejectedSpan(index, str(span_id) if span_id else None, str(exc))
                )
            index += 1
    return decoded
