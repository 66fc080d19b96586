"""Exceptions are recorded and re-raised unchanged; capture is safe, capped and
redactable (no server)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import agenttrace_sdk as at
import pytest
from agenttrace_sdk import spans as spans_module
from agenttrace_sdk.capture import TRUNCATED, limit_field, to_jsonable
from agenttrace_sdk.encoding import span_entry

from tests.sdk.conftest import RecordingSink


class Boom(RuntimeError):
    pass


def test_exception_is_recorded_with_its_stack_and_reraised_unchanged(
    recorded: RecordingSink,
) -> None:
    error = Boom("tool exploded")

    @at.span(name="tool", kind="TOOL")
    def tool() -> None:
        raise error

    with pytest.raises(Boom) as raised:
        tool()
    assert raised.value is error
    span = recorded.by_name()["tool"]
    assert span.status == "ERROR"
    assert span.status_message == "tool exploded"
    assert span.error is not None
    assert span.error["type"] == f"{__name__}.Boom"
    assert span.error["message"] == "tool exploded"
    assert span.error["stack"] is not None
    assert "raise error" in span.error["stack"]
    assert "Boom: tool exploded" in span.error["stack"]


async def test_async_exception_is_recorded_and_reraised(recorded: RecordingSink) -> None:
    @at.span(name="fails")
    async def fails() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        await fails()
    assert recorded.by_name()["fails"].status == "ERROR"


def test_context_manager_records_and_reraises(recorded: RecordingSink) -> None:
    with pytest.raises(ZeroDivisionError), at.span("block"):
        _ = 1 / 0
    span = recorded.by_name()["block"]
    assert span.error is not None
    assert span.error["type"] == "ZeroDivisionError"


@dataclass
class Point:
    x: int
    y: float


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque>"


class Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_arbitrary_values_become_json() -> None:
    cycle: list[Any] = [1]
    cycle.append(cycle)
    value = {
        "point": Point(1, math.nan),
        "when": datetime(2026, 1, 1, tzinfo=UTC),
        "raw": b"\x00\x01",
        "set": {3},
        1: Opaque(),
        "hostile": Hostile(),
        "cycle": cycle,
    }
    result = to_jsonable(value)
    json.dumps(result, allow_nan=False)
    assert result["point"] == {"x": 1, "y": "nan"}
    assert result["when"] == "2026-01-01T00:00:00+00:00"
    assert result["raw"] == "<2 bytes>"
    assert result["1"] == "<Opaque>"
    assert result["hostile"] == "<Hostile>"
    assert result["set"] == [3]


def test_a_large_field_is_truncated_and_marked() -> None:
    big = "x" * 100_000
    limited = limit_field(big, None, 32 * 1024)
    assert limited[TRUNCATED] is True
    assert limited["bytes"] == 100_002
    assert len(limited["preview"].encode()) <= 32 * 1024
    assert limit_field("small", None, 32 * 1024) == "small"


def test_redaction_applies_to_input_and_output_and_fails_closed() -> None:
    def redact(value: Any) -> Any:
        if isinstance(value, dict) and "password" in value:
            return {**value, "password": "***"}
        if value == "explode":
            raise RuntimeError("hook bug")
        return value

    assert limit_field({"user": "a", "password": "p"}, redact, 1024) == {
        "user": "a",
        "password": "***",
    }
    assert limit_field("explode", redact, 1024) == "[redaction failed: RuntimeError]"


def test_capture_can_be_switched_off_per_span_and_globally(recorded: RecordingSink) -> None:
    @at.span(name="secret", capture=False)
    def secret(password: str) -> str:
        return password

    @at.span(name="open")
    def open_(value: str) -> str:
        return value

    secret("p")
    open_("v")
    spans = recorded.by_name()
    assert (spans["secret"].input, spans["secret"].output) == (None, None)
    assert (spans["open"].input, spans["open"].output) == ({"value": "v"}, "v")

    spans_module.install(spans_module.Runtime(recorded, capture=False))
    open_("w")
    assert (recorded.ended[-1].input, recorded.ended[-1].output) == (None, None)


def test_a_span_encodes_to_the_native_batch_shape(recorded: RecordingSink) -> None:
    with at.span("root", kind="AGENT") as root:
        at.update_current_trace(user_id="u", tags=["t"])
        root.set_input({"q": "x" * 50}).set_attribute("k", {1, 2})
    entry = json.loads(span_entry(root, None, 20))
    assert entry["trace_id"] == root.trace_id
    assert (entry["user_id"], entry["tags"]) == ("u", ["t"])
    record = entry["spans"][0]
    assert record["span_id"] == root.span_id
    assert record["kind"] == "AGENT"
    assert record["end_time"] >= record["start_time"]
    assert record["input"][TRUNCATED] is True
    assert record["attributes"] == {"k": [1, 2]}


def test_deeply_nested_wide_values_are_cut_off_not_copied_whole() -> None:
    wide = [[list(range(1000)) for _ in range(1000)]]
    result = to_jsonable(wide)
    assert "<truncated: too many items>" in json.dumps(result)
    nested: Any = "leaf"
    for _ in range(50):
        nested = {"deeper": nested}
    json.dumps(to_jsonable(nested))
