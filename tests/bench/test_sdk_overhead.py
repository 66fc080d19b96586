"""The SDK overhead benchmark, in smoke mode: every variant is measured, both tracers
exported every span, and the section renders. Timings are never asserted here."""

from __future__ import annotations

from pathlib import Path

from bench.report import write_section
from bench.sdk_overhead import SECTION, SMOKE, VARIANTS, _parser, command_line, notes, rows, run


def test_smoke_run_measures_every_variant_and_exports_every_span(tmp_path: Path) -> None:
    result = run(SMOKE)

    assert all(len(result.samples[name]) == SMOKE.rounds for name in VARIANTS)
    assert all(s > 0 for samples in result.samples.values() for s in samples)
    warmup = max(100, SMOKE.calls // 10)
    expected = warmup + SMOKE.rounds * SMOKE.calls
    assert (result.agenttrace_spans, result.otel_spans, result.dropped) == (
        expected,
        expected,
        0,
    )
    table = rows(result)
    assert [r["variant"] for r in table] == list(VARIANTS)
    assert table[1]["ratio to OpenTelemetry"] is not None
    args = _parser().parse_args(["--smoke"])
    doc = write_section(
        SECTION, table, notes(result, SMOKE, command_line(args)), path=tmp_path / "b.md"
    )
    text = doc.read_text()
    assert f"## {SECTION}" in text
    assert "bench.sdk_overhead --smoke" in text
