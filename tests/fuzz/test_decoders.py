"""Property tests of the ingest decoders (OTLP protobuf, OTLP JSON, native JSON):
arbitrary and mutated bodies raise nothing but the decoders' user errors
(ingest/errors.py), valid spans come out exactly as they went in, and decoding the
same body twice gives the same result. Fixed seed, bounded examples, no database."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from agenttrace.errors import UserError
from ingest import native, otlp
from ingest.decoded import DecodedBatch
from messaging import span_batch
from tests.fuzz.strategies import (
    json_values,
    mutated,
    mutated_json,
    native_batches,
    otlp_json,
    otlp_requests,
)

FUZZ = settings(
    derandomize=True,
    database=None,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
STATUS = {Status.STATUS_CODE_UNSET: "UNSET", Status.STATUS_CODE_OK: "OK", 2: "ERROR"}


def decode_protobuf(body: bytes) -> DecodedBatch:
    return otlp.to_records(otlp.parse_protobuf(body))


def decode_json(body: bytes) -> DecodedBatch:
    return otlp.to_records(otlp.parse_json(body))


def only_user_errors(decode: Any, body: bytes) -> DecodedBatch | None:
    """The decoded batch, or None when the decoder refused the body with a UserError;
    any other exception fails the test. A decoded batch must also go onto the bus."""
    try:
        decoded: DecodedBatch = decode(body)
    except UserError as exc:
        status = exc.status_code
        if not 400 <= status < 500:
            raise AssertionError(f"a user error with status {status}: {exc}") from exc
        return None
    span_batch.encode(uuid.UUID(int=1), decoded.spans)
    return decoded


@FUZZ
@given(otlp_requests())
def test_valid_otlp_spans_survive_exactly(request: ExportTraceServiceRequest) -> None:
    spans = list(request.resource_spans[0].scope_spans[0].spans)
    for decoded in (
        decode_protobuf(request.SerializeToString()),
        decode_json(otlp_json(request)),
    ):
        assert decoded.rejected == []
        assert len(decoded.spans) == len(spans)
        for span, record in zip(spans, decoded.spans, strict=True):
            assert record["trace_id"] == span.trace_id.hex()
            assert record["span_id"] == span.span_id.hex()
            assert record["parent_span_id"] == (span.parent_span_id.hex() or None)
            assert record["name"] == (span.name or "(unnamed span)")
            assert record["start_time_unix_nano"] == span.start_time_unix_nano
            assert record["end_time_unix_nano"] == (span.end_time_unix_nano or None)
            assert record["status"] == STATUS[span.status.code]
            assert record["status_message"] == (span.status.message or None)
            sent = {kv.key: otlp.any_value(kv.value) for kv in span.attributes}
            for key, value in sent.items():
                assert record["attributes"][key] == value
                assert type(record["attributes"][key]) is type(value)


@FUZZ
@given(otlp_requests())
def test_otlp_json_and_protobuf_agree_and_are_deterministic(
    request: ExportTraceServiceRequest,
) -> None:
    body = request.SerializeToString()
    first, second = decode_protobuf(body), decode_protobuf(body)
    assert first == second
    assert decode_json(otlp_json(request)) == first


@FUZZ
@given(st.data())
def test_mutated_otlp_protobuf_raises_only_user_errors(data: st.DataObject) -> None:
    body = data.draw(
        st.one_of(
            st.binary(max_size=200),
            otlp_requests().map(lambda r: r.SerializeToString()).flatmap(mutated),
        )
    )
    first = only_user_errors(decode_protobuf, body)
    assert first == only_user_errors(decode_protobuf, body)


@FUZZ
@given(st.data())
def test_mutated_otlp_json_raises_only_user_errors(data: st.DataObject) -> None:
    valid = orjson.loads(otlp_json(data.draw(otlp_requests())))
    body = data.draw(
        st.one_of(
            st.binary(max_size=100),
            json_values.map(orjson.dumps),
            mutated_json(valid).map(orjson.dumps),
            mutated(orjson.dumps(valid)),
        )
    )
    first = only_user_errors(decode_json, body)
    assert first == only_user_errors(decode_json, body)


@FUZZ
@given(native_batches())
def test_valid_native_spans_survive_exactly(batch: dict[str, Any]) -> None:
    body = orjson.dumps(batch)
    decoded = native.decode(body)
    assert decoded.rejected == []
    assert decoded == native.decode(body)
    sent = [(t, s) for t in batch["traces"] for s in t["spans"]]
    assert len(decoded.spans) == len(sent)
    for (trace, span), record in zip(sent, decoded.spans, strict=True):
        assert record["trace_id"] == trace["trace_id"]
        assert record["span_id"] == span["span_id"]
        assert record["parent_span_id"] == span.get("parent_span_id")
        assert record["name"] == span["name"]
        assert record["start_time_unix_nano"] == span["start_time"]
        assert record["end_time_unix_nano"] == span.get("end_time")
        assert record["kind"] == span.get("kind", "SPAN")
        for key in ("model", "input_tokens", "output_tokens", "cost", "user_id", "tags"):
            if key in span:
                assert record[key] == span[key], key
        assert record["input"] == span.get("input")
        assert record["output"] == span.get("output")
        assert record["attributes"] == span.get("attributes", {})
    span_batch.encode(uuid.UUID(int=1), decoded.spans)


@FUZZ
@given(st.data())
def test_mutated_native_raises_only_user_errors(data: st.DataObject) -> None:
    valid = data.draw(native_batches())
    body = data.draw(
        st.one_of(
            st.binary(max_size=100),
            json_values.map(orjson.dumps),
            mutated_json(valid).map(orjson.dumps),
            mutated(orjson.dumps(valid)),
        )
    )
    first = only_user_errors(native.decode, body)
    assert first == only_user_errors(native.decode, body)


def test_ids_in_otlp_json_are_hex() -> None:
    """The helper's own check: the JSON body carries hex ids, as OTLP/HTTP says."""
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.start_time_unix_nano = b"\x01" * 16, b"\x02" * 8, 1
    document = orjson.loads(otlp_json(request))
    sent = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert sent["traceId"] == "01" * 16
    assert base64.b64encode(bytes.fromhex(sent["spanId"])) == base64.b64encode(b"\x02" * 8)


@pytest.mark.parametrize(("trace_id", "span_id"), [("0" * 32, "1" * 16), ("1" * 32, "0" * 16)])
def test_native_rejects_all_zero_ids(trace_id: str, span_id: str) -> None:
    span = {"span_id": span_id, "name": "s", "start_time": 1}
    body = orjson.dumps({"traces": [{"trace_id": trace_id, "spans": [span]}]})
    try:
        decoded = native.decode(body)
    except UserError:
        return
    assert decoded.spans == []
