"""Spans to the native JSON batch of ``POST /api/v1/traces`` (see ingest/native.py).

Each span goes out as its own trace entry carrying the trace's fields as they are now;
gzip takes the repetition back out. A span still running goes out without ``end_time``;
the server merges it with its complete version whichever arrives first.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from agenttrace_sdk.capture import Redactor, field_json
from agenttrace_sdk.spans import Span


def span_entry(span: Span, redact: Redactor | None, max_field_bytes: int) -> str:
    """One ``traces[]`` entry holding ``span``, as JSON text."""
    trace = span.trace
    record: dict[str, Any] = {
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "name": span.name[:1024] or "span",
        "kind": span.kind,
        "start_time": span.start_ns,
    }
    if span.end_ns is not None:
        record["end_time"] = span.end_ns
        record["status"] = span.status
    elif span.error is not None:
        record["status"] = "ERROR"
    for key in ("status_message", "model", "input_tokens", "output_tokens", "total_tokens"):
        value = getattr(span, key)
        if value is not None:
            record[key] = value
    if span.cost is not None:
        record["cost"] = span.cost
    if span.attributes:
        record["attributes"] = dict(span.attributes)
    if span.events:
        record["events"] = list(span.events)
    if span.error is not None:
        record["error"] = dict(span.error)
    for key in ("user_id", "session_id", "tags", "metadata"):
        value = getattr(span, key)
        if value is not None:
            record[key] = value
    # Input and output are encoded once, by field_json (capped), and spliced in.
    text = _dumps(record)[:-1]
    for key in ("input", "output"):
        value = getattr(span, key)
        if value is not None:
            text += f',"{key}":' + field_json(value, redact, max_field_bytes)
    entry: dict[str, Any] = {"trace_id": trace.trace_id}
    if trace.user_id is not None:
        entry["user_id"] = trace.user_id
    if trace.session_id is not None:
        entry["session_id"] = trace.session_id
    if trace.environment is not None:
        entry["environment"] = trace.environment
    if trace.tags:
        entry["tags"] = list(trace.tags)
    metadata = dict(trace.metadata)
    if trace.release is not None:
        metadata.setdefault("release", trace.release)
    if metadata:
        entry["metadata"] = metadata
    return _dumps(entry)[:-1] + ',"spans":[' + text + "}]}"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def batch_body(entries: list[str]) -> bytes:
    """The gzipped request body for these entries."""
    text = '{"traces":[' + ",".join(entries) + "]}"
    return gzip.compress(text.encode("utf-8"), compresslevel=6)
