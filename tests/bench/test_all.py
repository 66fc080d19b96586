"""``make bench`` (bench/all.py) runs every benchmark, and ``make bench-smoke`` (pytest
tests/bench) covers every one of them, so no figure can silently drop out of either."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest

from bench import all as bench_all
from bench.plots import latency_cdf_plot, throughput_plot

BENCH_DIR = Path(bench_all.__file__).parent
TESTS_DIR = Path(__file__).parent


def _modules_writing_a_section() -> set[str]:
    """Every bench module that rewrites a section of docs/benchmarks.md."""
    return {
        path.stem
        for path in BENCH_DIR.glob("*.py")
        if re.search(r"^SECTION\w* = ", path.read_text(encoding="utf-8"), re.MULTILINE)
    }


def test_the_suite_runs_every_benchmark_that_writes_a_figure() -> None:
    assert _modules_writing_a_section() == {step.name for step in bench_all.PLAN}


@pytest.mark.parametrize("step", bench_all.PLAN, ids=lambda step: step.name)
def test_each_step_passes_arguments_its_bench_accepts(step: bench_all.Step) -> None:
    module = importlib.import_module(f"bench.{step.name}")
    parser: argparse.ArgumentParser = module._parser()
    parser.parse_args([*step.args, "--no-write"])


@pytest.mark.parametrize("step", bench_all.PLAN, ids=lambda step: step.name)
def test_each_step_has_a_smoke_test(step: bench_all.Step) -> None:
    smoke_tests = [
        path
        for path in TESTS_DIR.glob("test_*.py")
        if re.search(rf"\bbench\.{step.name}\b|from bench import {step.name}\b", path.read_text())
    ]
    assert smoke_tests, f"bench.{step.name} has no test in tests/bench"


def test_the_whole_suite_fits_its_budget() -> None:
    assert sum(step.budget_s for step in bench_all.PLAN) <= bench_all.SUITE_BUDGET_S


def test_an_unknown_step_is_named_in_the_error() -> None:
    with pytest.raises(SystemExit, match="no bench step nope"):
        bench_all.select("ingest,nope", None)
    assert [s.name for s in bench_all.select(None, "phoenix")] == [
        s.name for s in bench_all.PLAN if s.name != "phoenix"
    ]


def test_plots_are_pngs_linked_relative_to_the_docs(tmp_path: Path) -> None:
    directory = tmp_path / "docs" / "plots"
    link = throughput_plot(
        "throughput",
        "Ingest",
        "clients",
        "requests/s",
        {"ingest": [(1, 900.0), (4, 1600.0), (16, 1550.0)], "ceiling": [(1, 3000.0)]},
        directory=directory,
    )
    cdf = latency_cdf_plot("cdf", "Live", {"a": [1.0, 2.0, 3.0], "empty": []}, directory=directory)
    for name in ("throughput", "cdf"):
        assert (directory / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    assert link.startswith("![Ingest](")
    assert link.endswith("throughput.png)")
    assert cdf.startswith("![Live](")
    with pytest.raises(ValueError, match="bare file stem"):
        throughput_plot("a/b", "t", "x", "y", {}, directory=directory)


def test_the_same_numbers_draw_the_same_bytes(tmp_path: Path) -> None:
    series = {"x": [5.0, 1.0, 2.5]}
    latency_cdf_plot("one", "t", series, directory=tmp_path)
    latency_cdf_plot("two", "t", series, directory=tmp_path)
    assert (tmp_path / "one.png").read_bytes() == (tmp_path / "two.png").read_bytes()
