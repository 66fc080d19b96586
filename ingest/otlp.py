"""Decodes OTLP/HTTP trace exports (protobuf or JSON) into span records.

OTLP JSON differs from protobuf's canonical JSON in one way that matters: trace and span
ids are hex, not base64. They are converted before parsing so one code path handles both.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from ingest.conventions import apply_conventions
from ingest.decoded import DecodedBatch, RejectedSpan
from ingest.errors import MalformedBody
from messaging.span_batch import SpanRecord

_STATUS = {
    Status.STATUS_CODE_UNSET: "UNSET",
    Status.STATUS_CODE_OK: "OK",
    Status.STATUS_CODE_ERROR: "ERROR",
}


def parse_protobuf(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise MalformedBody(
            f"body is not a valid OTLP protobuf ExportTraceServiceRequest: {exc}"
        ) from None
    return request


def _hex_to_b64(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except ValueError:
        # Left invalid on purpose: the span is rejected by itself, its batch is kept.
        return base64.b64encode(b"\x00invalid").decode()


def parse_json(body: bytes) -> ExportTraceServiceRequest:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedBody("an OTLP JSON body must be an object with resourceSpans")
    for resource_spans in document.get("resourceSpans") or []:
        for scope_spans in (resource_spans or {}).get("scopeSpans") or []:
            for span in (scope_spans or {}).get("spans") or []:
                if isinstance(span, dict):
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in span:
                            span[key] = _hex_to_b64(span[key])
                    for link in span.get("links") or []:
                        if isinstance(link, dict):
                            for key in ("traceId", "spanId"):
                                if key in link:
                                    link[key] = _hex_to_b64(link[key])
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise MalformedBody(
            f"body is not a valid OTLP JSON ExportTraceServiceRequest: {exc}"
        ) from None
    return request


_SCALARS = frozenset({"string_value", "bool_value", "int_value", "double_value"})


def any_value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which in _SCALARS:
        return getattr(value, which)
    if which is None:
        return None
    if which == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return attributes_dict(value.kvlist_value.values)
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, which)


def attributes_dict(attributes: Any) -> dict[str, Any]:
    # Every attribute of every span passes here: a scalar (nearly all of them) is read
    # without a call to any_value.
    result: dict[str, Any] = {}
    kv: KeyValue
    for kv in attributes:
        value = kv.value
        which = value.WhichOneof("value")
        result[kv.key] = getattr(value, which) if which in _SCALARS else any_value(value)
    return result


def _id(raw: bytes, size: int, what: str) -> str:
    if len(raw) != size:
        raise ValueError(f"{what} must be {size} bytes, got {len(raw)}")
    if not any(raw):
        raise ValueError(f"{what} is all zeros")
    return binascii.hexlify(raw).decode()


def _error(span: Span, events: list[dict[str, Any]]) -> dict[str, Any] | None:
    for event in events:
        if event["name"] == "exception":
            attrs = event["attributes"]
            return {
                "type": attrs.get("exception.type"),
                "message": attrs.get("exception.message"),
                "stack": attrs.get("exception.stacktrace"),
            }
    if span.status.code == Status.STATUS_CODE_ERROR:
        return {"type": None, "message": span.status.message or None, "stack": None}
    return None


def _record(span: Span, resource: dict[str, Any], scope: dict[str, Any]) -> SpanRecord:
    trace_id = _id(span.trace_id, 16, "traceId")
    span_id = _id(span.span_id, 8, "spanId")
    parent = _id(span.parent_span_id, 8, "parentSpanId") if span.parent_span_id else None
    if span.start_time_unix_nano <= 0:
        raise ValueError("startTimeUnixNano is missing")
    if span.end_time_unix_nano and span.end_time_unix_nano < span.start_time_unix_nano:
        raise ValueError("endTimeUnixNano is before startTimeUnixNano")
    attributes = attributes_dict(span.attributes)
    events = [
        {
            "name": event.name,
            "time_unix_nano": event.time_unix_nano,
            "attributes": attributes_dict(event.attributes),
        }
        for event in span.events
    ]
    if scope:
        attributes.setdefault("otel.scope.name", scope.get("name"))
    record: SpanRecord = {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": span.name or "(unnamed span)",
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano or None,
        "status": _STATUS.get(span.status.code, "UNSET"),
        "status_message": span.status.message or None,
        "attributes": attributes,
        "resource": resource,
        "events": events,
        "error": _error(span, events),
    }
    apply_conventions(record, attributes, resource)
    return record


def to_records(request: ExportTraceServiceRequest) -> DecodedBatch:
    """Every span of the export, normalised; a bad span is rejected on its own."""
    decoded = DecodedBatch()
    index = 0
    for resource_spans in request.resource_spans:
        resource = attributes_dict(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = {"name": scope_spans.scope.name} if scope_spans.scope.name else {}
            for span in scope_spans.spans:
                try:
                    decoded.spans.append(_record(span, resource, scope))
                except ValueError as exc:
                    span_hex = span.span_id.hex() if len(span.span_id) == 8 else None
                    decoded.rejected.append(RejectedSpan(index, span_hex, str(exc)))
                index += 1
    return decoded
