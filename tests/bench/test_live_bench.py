"""The live benchmark, in smoke mode, on embedded ``agenttrace serve`` as a subprocess:
every row is measured and well-formed, and no trace is lost. Timings are never asserted
here."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from bench.live import (
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

OPTIONS = replace(SMOKE, modes=("embedded",), traces=10, warmup_s=0.2)
COLUMNS = [
    "mode",
    "subscriber",
    "offered spans/s",
    "traces",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "lost",
    "POST p50 ms",
    "to worker p50 ms",
    "ceiling p50 ms",
    "ratio p50",
]


async def test_embedded_smoke_run_loses_nothing_and_every_row_is_well_formed(
    tmp_path: Path,
) -> None:
    result = await run(OPTIONS, log_dir=tmp_path, progress=False)

    for level in result.levels:
        assert level.lost == 0
        assert (level.post_errors, level.probe_errors) == (0, 0)
        assert len(level.latency_ms) == len(level.first_ms) == OPTIONS.traces
        assert len(level.post_ms) == len(level.ceiling_ms) == OPTIONS.traces
        assert len(level.worker_ms) == OPTIONS.traces
        assert all(f <= c for f, c in zip(level.first_ms, level.latency_ms, strict=True))

    table = rows(result)
    assert [(r["mode"], r["subscriber"], r["offered spans/s"]) for r in table] == [
        ("embedded", "serve", rate) for rate in OPTIONS.rates
    ]
    for row in table:
        assert list(row) == COLUMNS
        assert (row["traces"], row["lost"]) == (OPTIONS.traces, 0)
        figures = [row[k] for k in ("p50 ms", "p95 ms", "p99 ms", "POST p50 ms", "ceiling p50 ms")]
        assert all(isinstance(x, float) and math.isfinite(x) and x > 0 for x in figures), row
        assert row["p50 ms"] <= row["p95 ms"] <= row["p99 ms"]
        assert isinstance(row["to worker p50 ms"], float)
        assert row["ratio p50"] == pytest.approx(row["p50 ms"] / row["ceiling p50 ms"])

    # The section: the table, the lost count stated, the command.
    args = _parser().parse_args(["--mode", "embedded", "--smoke"])
    doc = tmp_path / "benchmarks.md"
    write_section(SECTION, table, notes(result, OPTIONS, command_line(args)), path=doc)
    written = doc.read_text()
    assert f"## {SECTION}\n" in written
    assert "| mode | subscriber | offered spans/s | traces | p50 ms | p95 ms | p99 ms | lost |" in (
        written
    )
    pairs = OPTIONS.traces * len(OPTIONS.rates)
    assert f"none of the {pairs} (trace, subscriber) pairs was lost" in written
    assert "Every POST and every ceiling request got 200." in written
    assert ".venv/bin/python -m bench.live --mode embedded --smoke" in written


def test_the_command_line_reproduces_the_options() -> None:
    flags = ["--mode", "distributed", "--rates", "200", "--traces", "50"]
    args = _parser().parse_args([*flags, "--env", "AGENTTRACE_KAFKA_LINGER_MS=0"])
    options = options_of(args)
    assert (options.modes, options.rates, options.traces) == (("distributed",), (200,), 50)
    assert options.env == (("AGENTTRACE_KAFKA_LINGER_MS", "0"),)
    assert command_line(args) == (
        ".venv/bin/python -m bench.live --mode distributed --rates 200 --traces 50"
        " --env AGENTTRACE_KAFKA_LINGER_MS=0"
    )
    assert options_of(_parser().parse_args([])).modes == ("embedded", "distributed")
    assert options_of(_parser().parse_args(["--smoke"])).traces == SMOKE.traces
    for bad in (["--rates", "0"], ["--rates", "x"], ["--traces", "0"], ["--env", "LINGER=0"]):
        with pytest.raises(SystemExit):
            options_of(_parser().parse_args(bad))
