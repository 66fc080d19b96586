"""The dashboard benchmark, in a tiny run: `agenttrace serve` as a subprocess serving the
built dashboard, Debian's chromium opening a 10- and a 200-span trace. Every run must
reach the trace view's render mark with tree items and as many waterfall bars; timings
are never asserted here."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench.dashboard_trace import (
    DIST,
    SECTION,
    Options,
    _parser,
    command_line,
    notes,
    options_of,
    rows,
    run,
)
from bench.report import write_section

OPTIONS = Options(sizes=(200,), runs=1, warmup=1, timeout_s=60)
COLUMNS = [
    "trace",
    "runs",
    "p50 ms",
    "min ms",
    "max ms",
    "first open ms",
    "app + auth p50 ms",
    "outline query p50 ms",
    "render p50 ms",
    "x floor",
    "of budget",
    "every run < 2 s",
]


async def test_a_tiny_run_opens_each_trace_and_reports_it(tmp_path: Path) -> None:
    assert (DIST / "index.html").exists(), "build the dashboard first: scripts/build-dashboard.sh"
    result = await run(OPTIONS, log_dir=tmp_path, progress=False)

    assert [s.spans for s in result.sizes] == [10, 200]
    for size in result.sizes:
        assert size.first is not None
        assert len(size.runs) == OPTIONS.runs
        for measured in [size.first, *size.runs]:
            assert math.isfinite(measured.mark_ms)
            assert measured.mark_ms > 0
            assert measured.tree_items == measured.bars > 0
            assert measured.sent_ms is not None
            assert measured.answered_ms is not None
            assert measured.sent_ms <= measured.answered_ms <= measured.mark_ms
    assert not result.built
    assert result.bundle_bytes > 0

    table = rows(result, OPTIONS)
    assert [row["trace"] for row in table] == ["10 spans (floor)", "200 spans"]
    for row in table:
        assert list(row) == COLUMNS
        assert row["runs"] == OPTIONS.runs
        assert row["min ms"] <= row["p50 ms"] <= row["max ms"]
        assert row["of budget"] == pytest.approx(row["p50 ms"] / OPTIONS.budget_ms)
    assert table[0]["x floor"] == 1

    args = _parser().parse_args(["--spans", "200", "--runs", "1", "--no-write"])
    doc = tmp_path / "benchmarks.md"
    write_section(SECTION, table, notes(result, OPTIONS, command_line(args)), path=doc)
    written = doc.read_text()
    assert f"## {SECTION}\n" in written
    assert "| trace | runs | p50 ms | min ms | max ms | first open ms |" in written
    assert "performance.mark(" in written
    assert ".venv/bin/python -m bench.dashboard_trace --spans 200 --runs 1" in written


def test_the_command_line_reproduces_the_options() -> None:
    args = _parser().parse_args(["--spans", "500,5000", "--runs", "3", "--budget-ms", "1500"])
    options = options_of(args)
    assert (options.sizes, options.runs, options.budget_ms) == ((500, 5000), 3, 1500.0)
    assert command_line(args) == (
        ".venv/bin/python -m bench.dashboard_trace --spans 500,5000 --runs 3 --budget-ms 1500.0"
    )
    defaults = options_of(_parser().parse_args([]))
    assert (defaults.sizes, defaults.runs, defaults.warmup) == ((1_000, 10_000), 5, 1)
    assert options_of(_parser().parse_args(["--smoke"])).sizes == (100, 1_000)
    for bad in (["--spans", "x"], ["--spans", "10"], ["--runs", "0"], ["--warmup", "0"]):
        with pytest.raises(SystemExit):
            options_of(_parser().parse_args(bad))
