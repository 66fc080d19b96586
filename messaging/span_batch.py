"""The message on ``agent-traces``: one project's spans of one trace, normalised.

Ingest turns OTLP and native JSON into this shape; the storage worker reads only this.
Times are Unix nanoseconds; ids are lowercase hex, exactly as OpenTelemetry shows them.
"""

from __future__ import annotations

import uuid
from typing import Any, NotRequired, TypedDict, cast

import orjson

SCHEMA_VERSION = 1
CORRELATION_HEADER = "x-correlation-id"
"""The header naming the ingest request a message came from (its X-Request-Id, or an id
ingest made up), so the worker's logs can be tied to the request."""

SPAN_KINDS = frozenset(
    {
        "AGENT",
        "LLM",
        "TOOL",
        "CHAIN",
        "RETRIEVER",
        "EMBEDDING",
        "RERANKER",
        "GUARDRAIL",
        "EVALUATOR",
        "SPAN",
    }
)
STATUSES = frozenset({"UNSET", "OK", "ERROR"})


class SpanRecord(TypedDict):
    trace_id: str
    span_id: str
    name: str
    start_time_unix_nano: int
    parent_span_id: NotRequired[str | None]
    kind: NotRequired[str]
    status: NotRequired[str]
    status_message: NotRequired[str | None]
    end_time_unix_nano: NotRequired[int | None]
    model: NotRequired[str | None]
    input_tokens: NotRequired[int | None]
    output_tokens: NotRequired[int | None]
    total_tokens: NotRequired[int | None]
    cost: NotRequired[float | None]
    input: NotRequired[Any]
    output: NotRequired[Any]
    attributes: NotRequired[dict[str, Any]]
    resource: NotRequired[dict[str, Any]]
    events: NotRequired[list[dict[str, Any]]]
    error: NotRequired[dict[str, Any] | None]
    user_id: NotRequired[str | None]
    session_id: NotRequired[str | None]
    environment: NotRequired[str | None]
    tags: NotRequired[list[str]]
    metadata: NotRequired[dict[str, Any]]


class SpanBatch(TypedDict):
    v: int
    project_id: str
    spans: list[SpanRecord]


def message_key(project_id: uuid.UUID, trace_id: str) -> bytes:
    """Kafka key: one trace of one project always lands on one partition, in order."""
    return f"{project_id}:{trace_id}".encode()


def encode(project_id: uuid.UUID, spans: list[SpanRecord]) -> bytes:
    batch: SpanBatch = {"v": SCHEMA_VERSION, "project_id": str(project_id), "spans": spans}
    return orjson.dumps(batch)


class UndecodableBatch(ValueError):
    """A message that is not a span batch: it can never be stored (dead-letter it)."""


def decode(value: bytes) -> SpanBatch:
    try:
        batch = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise UndecodableBatch(f"not JSON: {exc}") from None
    if not isinstance(batch, dict) or batch.get("v") != SCHEMA_VERSION:
        raise UndecodableBatch(f"not a version {SCHEMA_VERSION} span batch")
    if not isinstance(batch.get("project_id"), str) or not isinstance(batch.get("spans"), list):
        raise UndecodableBatch("a span batch needs project_id and spans")
    return cast(SpanBatch, batch)
