"""The store benchmark, in a tiny run on the session's Kafka and PostgreSQL: the worker
stores every pre-filled span once, with the same values as the COPY ceiling, and the rows
are well-formed. Timings are never asserted here."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from bench.report import write_section
from bench.store import (
    SECTION,
    SMOKE,
    WORKLOAD,
    _parser,
    command_line,
    notes,
    options_of,
    rows,
    run,
    trace_records,
)
from bench.workload import otlp_bytes
from devservices import DevServices
from ingest import otlp

OPTIONS = replace(SMOKE, spans=1_000, env=(("AGENTTRACE_WORKER_BATCH_MAX_MESSAGES", "20"),))


def test_the_prefilled_records_are_what_ingest_decodes_from_otlp() -> None:
    for trace, records in zip(WORKLOAD.traces(5), trace_records(5), strict=True):
        decoded = otlp.to_records(otlp.parse_protobuf(otlp_bytes([trace])))
        assert decoded.rejected == []
        by_id = sorted(decoded.spans, key=lambda s: s["span_id"])
        assert by_id == sorted(records, key=lambda s: s["span_id"])


async def test_a_tiny_run_stores_every_span_once_as_the_copy_does(
    services: DevServices, tmp_path: Path
) -> None:
    result = await run(OPTIONS, log_dir=tmp_path, services=services, progress=False)

    prefilled, stored, worker = result.prefilled, result.stored, result.worker
    assert (prefilled.traces, prefilled.spans) == (100, 1_000)
    assert sum(prefilled.end_offsets.values()) - sum(prefilled.start_offsets.values()) == 100
    assert (stored.spans, stored.distinct_spans) == (1_000, 1_000)
    assert (stored.traces, stored.complete_traces) == (100, 100)
    assert stored.same_as_copy
    assert result.copy.rows == 1_000
    # Several batches, the first not timed.
    assert 0 < worker.first_batch_messages < 100
    assert worker.messages == 100 - worker.first_batch_messages
    assert worker.spans == worker.messages * 10

    table = rows(result)
    assert [r["writer"] for r in table] == ["ceiling: one COPY into spans", "agenttrace worker"]
    for row in table:
        assert isinstance(row["spans/s"], float)
        assert math.isfinite(row["spans/s"])
        assert row["spans/s"] > 0
    assert table[1]["ratio"] == table[1]["spans/s"] / table[0]["spans/s"]
    assert 0 < table[1]["CPU"] < 2.5

    args = _parser().parse_args(["--smoke"])
    doc = tmp_path / "benchmarks.md"
    write_section(SECTION, table, notes(result, OPTIONS, command_line(args)), path=doc)
    written = doc.read_text()
    assert f"## {SECTION}\n" in written
    assert "nothing lost, nothing doubled" in written
    assert ".venv/bin/python -m bench.store --smoke" in written


def test_the_options() -> None:
    assert options_of(_parser().parse_args([])).spans == 200_000
    smoke = options_of(_parser().parse_args(["--smoke", "--spans", "500"]))
    assert (smoke.spans, smoke.env) == (500, SMOKE.env)
    given = options_of(_parser().parse_args(["--env", "AGENTTRACE_WORKER_BATCH_MAX_MESSAGES=9"]))
    assert given.env == (("AGENTTRACE_WORKER_BATCH_MAX_MESSAGES", "9"),)
    for bad in (["--spans", "5"], ["--env", "BATCH=1"]):
        with pytest.raises(SystemExit):
            options_of(_parser().parse_args(bad))
