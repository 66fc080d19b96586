"""Hypothesis strategies for the ingest decoders (tests/fuzz and bench/fuzz.py): valid
OTLP and native spans, and the mutations that turn a valid body into an arbitrary one."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

import orjson
from google.protobuf import json_format
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from messaging.span_batch import SPAN_KINDS

# Hypothesis keeps caches (not only its example database, which every run here turns off)
# under ./.hypothesis; keep them out of the work tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "agenttrace-hypothesis")

MAX_NANOS = 2**63 - 1
"""The largest time PostgreSQL's BIGINT holds; valid spans stay at or below it."""


def _nonzero(size: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=size, max_size=size).filter(any)


names = st.text(min_size=1, max_size=40)
attribute_values: st.SearchStrategy[Any] = st.one_of(
    st.text(max_size=20),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)
attributes = st.dictionaries(st.text(min_size=1, max_size=12), attribute_values, max_size=4)


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=value)


@st.composite
def otlp_spans(draw: st.DrawFn) -> Span:
    """A span every OTLP decoder must accept."""
    start = draw(st.integers(min_value=1, max_value=MAX_NANOS))
    end = draw(st.one_of(st.just(0), st.integers(min_value=start, max_value=MAX_NANOS)))
    span = Span(
        trace_id=draw(_nonzero(16)),
        span_id=draw(_nonzero(8)),
        parent_span_id=draw(st.one_of(st.just(b""), _nonzero(8))),
        name=draw(st.one_of(st.just(""), names)),
        start_time_unix_nano=start,
        end_time_unix_nano=end,
        attributes=[KeyValue(key=k, value=any_value(v)) for k, v in draw(attributes).items()],
    )
    span.status.code = draw(
        st.sampled_from([Status.STATUS_CODE_UNSET, Status.STATUS_CODE_OK, Status.STATUS_CODE_ERROR])
    )
    span.status.message = draw(st.text(max_size=10))
    return span


@st.composite
def otlp_requests(draw: st.DrawFn) -> ExportTraceServiceRequest:
    spans = draw(st.lists(otlp_spans(), min_size=1, max_size=4))
    scope = ScopeSpans(spans=spans)
    scope.scope.name = draw(st.text(max_size=10))
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[scope])])


def otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """The OTLP/HTTP JSON encoding: protobuf's JSON with hex (not base64) ids."""
    document = json_format.MessageToDict(request)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return orjson.dumps(document)


def _hex(size: int) -> st.SearchStrategy[str]:
    return _nonzero(size).map(bytes.hex)


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def native_spans(draw: st.DrawFn) -> dict[str, Any]:
    """A native span every decoder must accept (times in nanoseconds)."""
    start = draw(st.integers(min_value=1, max_value=MAX_NANOS))
    span: dict[str, Any] = {
        "span_id": draw(_hex(8)),
        "name": draw(names),
        "start_time": start,
    }
    optional = {
        "parent_span_id": _hex(8),
        "end_time": st.integers(min_value=start, max_value=MAX_NANOS),
        "kind": st.sampled_from(sorted(SPAN_KINDS)),
        "status": st.sampled_from(["UNSET", "OK", "ERROR"]),
        "model": st.text(max_size=10),
        "input_tokens": st.integers(min_value=0, max_value=2**31),
        "output_tokens": st.integers(min_value=0, max_value=2**31),
        "cost": st.floats(min_value=0, max_value=1e6),
        "input": json_values,
        "output": json_values,
        "attributes": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
        "user_id": st.text(min_size=1, max_size=8),
        "tags": st.lists(st.text(max_size=5), max_size=3),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            span[key] = draw(strategy)
    return span


@st.composite
def native_batches(draw: st.DrawFn) -> dict[str, Any]:
    traces = []
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        spans = draw(st.lists(native_spans(), min_size=1, max_size=3))
        traces.append({"trace_id": draw(_hex(16)), "spans": spans})
    return {"traces": traces}


@st.composite
def mutated(draw: st.DrawFn, body: bytes) -> bytes:
    """The body with a few bytes flipped, inserted, deleted, or cut off."""
    data = bytearray(body)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= draw(st.integers(min_value=1, max_value=255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete" and data:
            del data[at : at + draw(st.integers(min_value=1, max_value=4))]
        elif op == "truncate":
            del data[at:]
    return bytes(data)


@st.composite
def mutated_json(draw: st.DrawFn, document: Any) -> Any:
    """The document with one value somewhere replaced by an arbitrary JSON value."""
    if isinstance(document, dict) and document and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(document)))
        return document | {key: draw(mutated_json(document[key]))}
    if isinstance(document, list) and document and draw(st.booleans()):
        at = draw(st.integers(min_value=0, max_value=len(document) - 1))
        return [*document[:at], draw(mutated_json(document[at])), *document[at + 1 :]]
    return draw(json_values)
