"""The ingest-to-queryable benchmark, in a tiny run of both modes (embedded ``serve``, and
ingest, worker and api processes on the session's Kafka, Redis and PostgreSQL): every span
sent is stored once and readable through the API, and every row is well-formed. Timings
are never asserted here."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from bench.queryable import (
    SECTION,
    SMOKE,
    _parser,
    command_line,
    notes,
    options_of,
    rows,
    run,
)
from bench.report import write_section
from devservices import DevServices

OPTIONS = replace(SMOKE, loads=(100, 300), clients=2, traces_per_request=4)
COLUMNS = [
    "mode",
    "spans",
    "traces",
    "requests",
    "accepted s",
    "accepted spans/s",
    "queryable s",
    "queryable spans/s",
    "ratio",
    "lag s",
    "retries",
]


async def test_a_tiny_run_makes_every_span_queryable_once(
    services: DevServices, tmp_path: Path
) -> None:
    result = await run(OPTIONS, log_dir=tmp_path, services=services, progress=False)

    assert [(load.mode, load.spans) for load in result.loads] == [
        (mode, spans) for mode in ("embedded", "distributed") for spans in (100, 300)
    ]
    for load in result.loads:
        assert load.traces == load.spans // 10
        assert load.requests == math.ceil(load.traces / OPTIONS.traces_per_request)
        assert 0 < load.accepted_s <= load.queryable_s
    # The last trace of the last load, read back through the REST API with all its spans.
    assert result.read_back == {"embedded": 10, "distributed": 10}

    table = rows(result)
    for row in table:
        assert list(row) == COLUMNS
        assert row["queryable spans/s"] <= row["accepted spans/s"]
        assert row["ratio"] == pytest.approx(row["queryable spans/s"] / row["accepted spans/s"])
        assert 0 < row["ratio"] <= 1
        assert row["lag s"] >= 0

    args = _parser().parse_args(["--smoke"])
    doc = tmp_path / "benchmarks.md"
    write_section(SECTION, table, notes(result, OPTIONS, command_line(args)), path=doc)
    written = doc.read_text()
    assert f"## {SECTION}\n" in written
    assert "all 400 sent, each stored once" in written
    assert ".venv/bin/python -m bench.queryable --smoke" in written


def test_the_options() -> None:
    defaults = options_of(_parser().parse_args([]))
    assert (defaults.modes, defaults.loads) == (("embedded", "distributed"), (20_000, 200_000))
    assert options_of(_parser().parse_args(["--smoke"])).loads == SMOKE.loads
    given = options_of(_parser().parse_args(["--mode", "embedded", "--loads", "50,70"]))
    assert (given.modes, given.loads) == (("embedded",), (50, 70))
    for bad in (["--loads", "0"], ["--loads", "x"], ["--clients", "0"], ["--env", "X=1"]):
        with pytest.raises(SystemExit):
            options_of(_parser().parse_args(bad))
