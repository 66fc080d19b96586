"""The ingest benchmark, in a tiny run, against a real ``agenttrace ingest`` on the
session's Kafka and PostgreSQL and the no-op ceiling server: every point is measured,
every answer is 2xx and every accepted trace is a Kafka message. Timings are never
asserted here."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from bench.ingest import (
    SECTION,
    SMOKE,
    _parser,
    command_line,
    make_bodies,
    notes,
    options_of,
    rows,
    run,
    trace_rows,
)
from bench.report import write_section
from devservices import DevServices

OPTIONS = replace(SMOKE, concurrency=(1, 3), duration_s=0.4, warmup_s=0.1, rounds=2, bodies=8)
COLUMNS = [
    "encoding",
    "clients",
    "body bytes",
    "requests",
    "req/s",
    "spans/s",
    "p50 ms",
    "p99 ms",
    "Kafka wait ms",
    "ceiling req/s",
    "ratio",
    "non-2xx",
    "ceiling non-2xx",
    "ingest CPU",
    "ceiling CPU",
    "client CPU",
    "ceiling client CPU",
]


async def test_a_tiny_run_is_all_2xx_into_kafka_and_every_row_is_well_formed(
    services: DevServices, tmp_path: Path
) -> None:
    result = await run(OPTIONS, log_dir=tmp_path, services=services, progress=False)

    assert [(p.encoding, p.clients) for p in result.points] == [
        (encoding, clients) for encoding in ("otlp", "native") for clients in (1, 3)
    ]
    for point in result.points:
        assert point.ingest.requests > 0
        assert point.ceiling.requests > 0
        assert (point.ingest.non_2xx, point.ceiling.non_2xx) == (0, 0)
        assert point.ingest.spans == 10 * point.ingest.requests
        # Ingest's /metrics saw each of those requests wait for Kafka, within its time.
        assert point.ingest.published == point.ingest.requests
        assert 0 < point.ingest.publish_s < sum(point.ingest.latencies_s)
        # Two ingest worker processes, measured at the most clients only.
        if point.clients == 3:
            assert point.multi is not None
            assert point.multi.requests > 0
            assert point.multi.non_2xx == 0
            assert point.multi.server_cpu_s > 0
        else:
            assert point.multi is None
    # Each 2xx is one 10-span trace, one message on the spans topic.
    assert result.kafka_messages == result.accepted_traces > 0
    # Both servers were stopped by the bench, and said so in their logs.
    assert "Finished server process" in (tmp_path / "no-op.log").read_text()
    assert "Finished server process" in (tmp_path / "ingest.log").read_text()
    # uvicorn's supervisor started both workers of the 2-process ingest.
    multi_log = (tmp_path / "ingest-2.log").read_text()
    assert multi_log.count("Finished server process") == 2, multi_log[-2000:]

    table = rows(result)
    for row in table:
        assert list(row) == COLUMNS
        for key in (
            "req/s",
            "spans/s",
            "p50 ms",
            "p99 ms",
            "Kafka wait ms",
            "ceiling req/s",
            "ratio",
        ):
            assert isinstance(row[key], float), (key, row)
            assert math.isfinite(row[key]), (key, row)
            assert row[key] > 0, (key, row)
        assert row["ratio"] == pytest.approx(row["req/s"] / row["ceiling req/s"])
        assert row["spans/s"] == pytest.approx(10 * row["req/s"])

        assert (row["non-2xx"], row["ceiling non-2xx"]) == (0, 0)

    traces = trace_rows(result)
    assert [(r["encoding"], r["processes"]) for r in traces] == [
        ("OTLP protobuf", 1),
        ("OTLP protobuf", 2),
        ("native JSON", 1),
        ("native JSON", 2),
    ]
    for row in traces:
        assert row["traces/s"] > 0
        assert row["traces/s per process"] == pytest.approx(row["traces/s"] / row["processes"])
        assert row["processes for 10,000 traces/s"] == math.ceil(
            10_000 / row["traces/s per process"]
        )

    args = _parser().parse_args(["--concurrency", "1,3", "--no-write"])
    doc = tmp_path / "benchmarks.md"
    write_section(SECTION, table, notes(result, OPTIONS, command_line(args)), path=doc)
    written = doc.read_text()
    assert f"## {SECTION}\n" in written
    assert "| encoding | clients | body bytes | requests | req/s | spans/s |" in written
    assert "**0 non-2xx** from ingest and from the ceiling" in written
    assert f"gained {result.kafka_messages:,} messages during the run" in written
    assert ".venv/bin/python -m bench.ingest --concurrency 1,3" in written
    assert "| encoding | processes | clients | traces/s |" in written
    assert "the slower encoding): one process took" in written
    assert "processes (cores) would do" in written or "(CPU-bound)" in written


def test_bodies_are_single_10_span_traces_in_each_encoding() -> None:
    otlp, native = make_bodies("otlp", 3), make_bodies("native", 3)
    assert [b.spans for b in otlp + native] == [10] * 6
    assert len({b.data for b in otlp}) == 3
    assert all(b.data.startswith(b"{") for b in native)


def test_the_command_line_reproduces_the_options() -> None:
    args = _parser().parse_args(["--encodings", "native", "--concurrency", "2", "--duration", "5"])
    options = options_of(args)
    assert (options.encodings, options.concurrency, options.duration_s) == (("native",), (2,), 5)
    assert command_line(args) == (
        ".venv/bin/python -m bench.ingest --encodings native --concurrency 2 --duration 5.0"
    )
    defaults = options_of(_parser().parse_args([]))
    assert (defaults.concurrency, defaults.encodings) == ((1, 4, 16), ("otlp", "native"))
    assert defaults.processes == 2
    for bad in (
        ["--encodings", "xml"],
        ["--concurrency", "0"],
        ["--env", "X=1"],
        ["--rounds", "0"],
        ["--processes", "0"],
    ):
        with pytest.raises(SystemExit):
            options_of(_parser().parse_args(bad))
