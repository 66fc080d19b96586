"""The in-batch merge must agree with the SQL upsert's rule (tested end to end elsewhere)."""

from __future__ import annotations

import uuid

import pytest

from messaging.span_batch import SpanRecord
from workers.span_rows import InvalidSpan, merge, merge_duplicates, to_row

PROJECT = uuid.uuid4()


def _record(**fields: object) -> SpanRecord:
    base: SpanRecord = {
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "name": "agent",
        "start_time_unix_nano": 1_700_000_000_000_000_000,
    }
    return base | fields  # type: ignore[return-value]


def test_a_later_end_fills_in_what_the_start_left_empty() -> None:
    start = to_row(PROJECT, _record(input="q"))
    end = to_row(
        PROJECT, _record(end_time_unix_nano=1_700_000_001_000_000_000, status="OK", output="a")
    )
    for merged in (merge(start, end), merge(end, start)):
        assert merged.end_time is not None
        assert (merged.status, merged.input, merged.output) == ("OK", "q", "a")


def test_a_duplicate_changes_nothing() -> None:
    row = to_row(PROJECT, _record(status="ERROR", attributes={"a": 1}, tags=["x"]))
    assert merge(row, row) == row
    assert merge_duplicates([row, row]) == [row]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"span_id": "nothex!!nothex!!"}, "span id"),
        ({"trace_id": "00000000000000000000000000000000"}, "all zeros"),
        ({"start_time_unix_nano": "yesterday"}, "start_time"),
        ({"kind": "WIZARD"}, "kind"),
        ({"input_tokens": -1}, "input_tokens"),
        ({"tags": "a,b"}, "tags"),
    ],
)
def test_records_that_can_never_be_stored_are_refused_with_the_reason(
    fields: dict[str, object], problem: str
) -> None:
    with pytest.raises(InvalidSpan, match=problem):
        to_row(PROJECT, _record(**fields))


def test_nanosecond_times_keep_every_microsecond() -> None:
    row = to_row(PROJECT, _record(start_time_unix_nano=1_764_000_000_123_456_789))
    assert int(row.start_time.timestamp()) == 1_764_000_000
    assert row.start_time.microsecond == 123_456
