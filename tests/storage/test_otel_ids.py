from __future__ import annotations

import pytest

from storage.otel_ids import (
    InvalidId,
    span_id_from_hex,
    span_id_to_hex,
    trace_id_from_hex,
    trace_id_to_hex,
)


@pytest.mark.parametrize(
    "span_hex", ["0000000000000001", "7fffffffffffffff", "8000000000000000", "ffffffffffffffff"]
)
def test_span_ids_round_trip_bit_exactly_through_bigint(span_hex: str) -> None:
    stored = span_id_from_hex(span_hex)
    assert -(2**63) <= stored < 2**63
    assert span_id_to_hex(stored) == span_hex


def test_trace_ids_round_trip_through_uuid() -> None:
    assert (
        trace_id_to_hex(trace_id_from_hex("ffffffffffffffff0000000000000001"))
        == "ffffffffffffffff0000000000000001"
    )


@pytest.mark.parametrize("bad", ["", "abc", "zzzzzzzzzzzzzzzz", "0000000000000000"])
def test_invalid_span_ids_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(InvalidId):
        span_id_from_hex(bad)
