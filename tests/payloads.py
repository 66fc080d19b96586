"""Builds OTLP and native request bodies for tests."""

from __future__ import annotations

import os
import time
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status


def new_trace_id() -> str:
    return os.urandom(16).hex()


def new_span_id() -> str:
    return os.urandom(8).hex()


def _value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=str(value))


def otlp_span(
    trace_id: str,
    span_id: str,
    *,
    parent: str | None = None,
    name: str = "span",
    start_ns: int | None = None,
    end_ns: int | None = None,
    attributes: dict[str, Any] | None = None,
    error: bool = False,
) -> Span:
    start = start_ns or time.time_ns()
    span = Span(
        trace_id=bytes.fromhex(trace_id),
        span_id=bytes.fromhex(span_id),
        parent_span_id=bytes.fromhex(parent) if parent else b"",
        name=name,
        start_time_unix_nano=start,
        end_time_unix_nano=end_ns if end_ns is not None else start + 1_000_000,
        attributes=[KeyValue(key=k, value=_value(v)) for k, v in (attributes or {}).items()],
    )
    if error:
        span.status.code = Status.STATUS_CODE_ERROR
        span.status.message = "boom"
    return span


def otlp_request(spans: list[Span]) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]
    )


def otlp_json(trace_id: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    """An OTLP JSON export (hex ids, as the OTLP spec writes them)."""
    now = time.time_ns()
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "json-agent"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "test"},
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": s["span_id"],
                                "parentSpanId": s.get("parent", ""),
                                "name": s["name"],
                                "kind": 1,
                                "startTimeUnixNano": str(now),
                                "endTimeUnixNano": str(now + 2_000_000),
                                "attributes": [
                                    {
                                        "key": k,
                                        "value": {"stringValue": v}
                                        if isinstance(v, str)
                                        else {"intValue": str(v)},
                                    }
                                    for k, v in s.get("attributes", {}).items()
                                ],
                                "status": {"code": 2 if s.get("error") else 1},
                            }
                            for s in spans
                        ],
                    }
                ],
            }
        ]
    }


def native_batch(trace_id: str, spans: list[dict[str, Any]], **trace_fields: Any) -> dict[str, Any]:
    return {"traces": [{"trace_id": trace_id, **trace_fields, "spans": spans}]}


def agent_trace_spans(t0: int, span_count: int, child_name: str = "step") -> list[dict[str, Any]]:
    """A native root AGENT span with ``span_count - 1`` TOOL children named ``{child_name}-{i}``."""
    root = new_span_id()
    spans: list[dict[str, Any]] = [
        {"span_id": root, "name": "root", "kind": "AGENT", "start_time": t0, "end_time": t0 + 100}
    ]
    spans += [
        {
            "span_id": new_span_id(),
            "parent_span_id": root,
            "name": f"{child_name}-{i}",
            "kind": "TOOL",
            "start_time": t0 + i,
            "end_time": t0 + i + 1,
        }
        for i in range(span_count - 1)
    ]
    return spans
