"""The benchmark workload: deterministic, shaped like an agent, accepted by our decoders."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from bench.workload import (
    GeneratedTrace,
    Workload,
    native_bytes,
    otlp_bytes,
    span_records,
    span_rows,
)
from ingest import native, otlp


def _depths(trace: GeneratedTrace) -> dict[str, int]:
    by_id = {s.span_id: s for s in trace.spans}
    depths: dict[str, int] = {}
    for span in trace.spans:  # parents come first
        parent = span.parent_span_id
        depths[span.span_id] = 0 if parent is None else depths[parent] + 1
        assert parent is None or parent in by_id
    return depths


def _assert_tree(trace: GeneratedTrace) -> None:
    """One root; every child starts and ends within its parent's window."""
    by_id = {s.span_id: s for s in trace.spans}
    assert len(by_id) == len(trace.spans)
    roots = [s for s in trace.spans if s.parent_span_id is None]
    assert len(roots) == 1
    assert roots[0] is trace.spans[0]
    for span in trace.spans:
        assert span.start_time_unix_nano < span.end_time_unix_nano
        if span.parent_span_id is not None:
            parent = by_id[span.parent_span_id]
            assert parent.start_time_unix_nano <= span.start_time_unix_nano
            assert span.end_time_unix_nano <= parent.end_time_unix_nano


def test_the_same_seed_gives_the_same_bytes() -> None:
    first = list(Workload(seed=7).traces(20))
    again = list(Workload(seed=7).traces(20))
    assert otlp_bytes(first) == otlp_bytes(again)
    assert native_bytes(first) == native_bytes(again)
    # A trace is the same whichever range it is generated in.
    assert Workload(seed=7).trace(13) == first[13]
    assert list(Workload(seed=7).traces(5, start=10)) == first[10:15]
    other = list(Workload(seed=8).traces(20))
    assert otlp_bytes(other) != otlp_bytes(first)
    assert {t.trace_id for t in other}.isdisjoint(t.trace_id for t in first)


def test_the_default_trace_is_an_agent_with_llm_tool_and_retriever_calls() -> None:
    depths_seen = set()
    for trace in Workload().traces(50):
        assert len(trace.spans) == 10
        kinds = Counter(s.kind for s in trace.spans)
        assert kinds == {"AGENT": 1, "LLM": 3, "TOOL": 4, "RETRIEVER": 2}
        assert trace.spans[0].kind == "AGENT"
        _assert_tree(trace)
        depth = max(_depths(trace).values())
        assert depth in (2, 3)
        depths_seen.add(depth)
        for span in trace.spans:
            if span.kind == "LLM" and span.status == "OK":
                assert span.model is not None
                assert span.input_tokens
                assert span.output_tokens
                assert span.cost
                assert 800 <= len(str(span.input)) <= 1400  # ~1 KB of chat messages
                assert 350 <= len(str(span.output)) <= 700  # ~500 B completion
    assert depths_seen == {2, 3}


def test_errors_users_sessions_and_times_are_realistic() -> None:
    workload = Workload(now_ns=2_000_000_000_000_000_000, window_s=3600.0)
    traces = list(workload.traces(300))
    spans = [s for t in traces for s in t.spans]
    errors = [s for s in spans if s.status == "ERROR"]
    assert 0.03 <= len(errors) / len(spans) <= 0.07
    for span in errors:
        assert span.error is not None
        [event] = span.events
        assert event["name"] == "exception"
        assert event["attributes"]["exception.type"] == span.error["type"]
    assert len({t.user_id for t in traces}) <= workload.users
    assert len({t.session_id for t in traces}) <= workload.sessions
    assert len({t.session_id for t in traces}) < len(traces)  # sessions hold several traces
    for trace in traces:
        root = trace.spans[0]
        assert root.end_time_unix_nano <= workload.now_ns
        assert workload.now_ns - root.end_time_unix_nano <= 3600 * 10**9
    starts = sorted(t.spans[0].start_time_unix_nano for t in traces)
    assert starts[-1] - starts[0] > 3000 * 10**9  # spread over the window


@pytest.mark.parametrize("size", [1, 7, 1000, 10_000])
def test_the_trace_size_is_configurable(size: int) -> None:
    trace = Workload(spans_per_trace=size).trace(0)
    assert len(trace.spans) == size
    _assert_tree(trace)
    if size >= 1000:
        assert max(_depths(trace).values()) >= 5  # deep-ish, with fan-out
        assert Counter(s.kind for s in trace.spans)["AGENT"] > 10


def test_spans_for_an_exact_total() -> None:
    traces = list(Workload().traces_for_spans(95))
    assert [len(t.spans) for t in traces] == [10] * 9 + [5]
    assert list(Workload().traces_for_spans(95, start=8, count=5)) == traces[8:]


def test_the_otlp_encoding_is_what_the_otlp_decoder_accepts() -> None:
    traces = list(Workload(seed=3).traces(30))
    decoded = otlp.to_records(otlp.parse_protobuf(otlp_bytes(traces)))
    assert decoded.rejected == []
    assert len(decoded.spans) == sum(len(t.spans) for t in traces)
    # span_records(shape="otlp") is exactly the decoder's output, without the round trip.
    expected = {r["span_id"]: r for t in traces for r in span_records(t, "otlp")}
    assert {r["span_id"]: r for r in decoded.spans} == expected


def test_the_native_encoding_is_what_the_native_decoder_accepts() -> None:
    traces = list(Workload(seed=3).traces(30))
    decoded = native.decode(native_bytes(traces))
    assert decoded.rejected == []
    assert decoded.spans == [r for t in traces for r in span_records(t, "native")]


def test_both_encodings_fill_the_same_columns() -> None:
    [trace] = Workload(seed=5).traces(1)
    columns = [
        "kind",
        "model",
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "cost",
        "input",
        "output",
        "status",
        "error",
        "user_id",
        "session_id",
        "environment",
        "tags",
        "metadata",
    ]
    for from_otlp, from_native in zip(
        span_records(trace, "otlp"), span_records(trace, "native"), strict=True
    ):
        assert {c: from_otlp.get(c) for c in columns} == {c: from_native.get(c) for c in columns}


def test_span_rows_for_direct_seeding() -> None:
    project = uuid.uuid4()
    traces = list(Workload().traces(3))
    rows = span_rows(project, traces)
    assert len(rows) == 30
    assert {r.project_id for r in rows} == {project}
    assert sum(r.parent_span_id is None for r in rows) == 3
