"""The Arize Phoenix side-by-side benchmark at tiny sizes, against both real servers
(``phoenix serve`` from .venv-phoenix and ``agenttrace serve``): every figure measured on
both, every row well-formed, and nothing AgentTrace acknowledged missing. Timings and
targets are never asserted here."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from bench.phoenix import SECTION, SMOKE, _parser, command_line, run
from bench.phoenix_report import OURS, PHOENIX, notes, overload_rows, rows
from bench.phoenix_servers import phoenix_installed
from bench.report import write_section

pytestmark = pytest.mark.skipif(
    not phoenix_installed(), reason="no .venv-phoenix (scripts/bootstrap.sh dev creates it)"
)

OPTIONS = replace(SMOKE, overload_drain_s=8.0)
COLUMNS = ["figure", PHOENIX, OURS, "AgentTrace / Phoenix", "target", "met"]
FIGURES = [
    "ingest to queryable, spans/s (600 spans)",
    "ingest: server CPU seconds per 1,000 spans (Python + database processes)",
    *(
        f"{figure}, {q} ms"
        for figure in (
            "trace detail (10 spans)",
            "trace detail (100 spans)",
            "failed traces, newest 50",
        )
        for q in ("p50", "p95", "p99")
    ),
    "bytes per trace: trace tables after VACUUM",
    "bytes per trace: whole database's growth after VACUUM",
    "server memory: Python processes' RSS, MiB",
    "server memory: PostgreSQL processes' PSS, MiB (SQLite is inside Phoenix)",
]


def _positive(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


async def test_smoke_run_measures_both_servers_and_agenttrace_loses_nothing_acknowledged(
    tmp_path: Path,
) -> None:
    result = await run(OPTIONS, log_dir=tmp_path, say=lambda _: None)

    for side in result.sides.values():
        assert side.ingest is not None
        assert side.ingest.spans == OPTIONS.spans
        assert side.ingest.queryable_s >= side.ingest.acked_s > 0
        assert side.storage is not None
        assert side.storage.trace_tables_bytes > 0
        assert side.memory is not None
        assert side.memory.processes >= 1
        overload = side.overload
        assert overload is not None
        assert overload.created > 0
        assert overload.acked + overload.failed + overload.dropped == overload.created
        assert sum(overload.statuses.values()) > 0
    ours = result.sides[OURS].overload
    assert ours is not None
    assert ours.finished == OPTIONS.overload_clients
    assert ours.acked > 0
    assert ours.acked_missing == 0
    assert ours.stored >= ours.acked
    assert ours.queryable >= ours.acked

    table = rows(result)
    assert [row["figure"] for row in table] == FIGURES
    for row in table:
        assert list(row) == COLUMNS
        assert _positive(row[OURS]), row
        if row["figure"].startswith("server memory: PostgreSQL"):
            assert row[PHOENIX] is None
            assert row["AgentTrace / Phoenix"] is None
            continue
        assert _positive(row[PHOENIX]), row
        assert row["AgentTrace / Phoenix"] == pytest.approx(row[OURS] / row[PHOENIX])
        assert (row["target"] is None) == (row["met"] is None)
    latencies = [row for row in table if row["figure"].endswith(" ms")]
    for first in range(0, len(latencies), 3):
        for server in (PHOENIX, OURS):
            p50, p95, p99 = (row[server] for row in latencies[first : first + 3])
            assert p50 <= p95 <= p99

    assert [row["server"] for row in overload_rows(result)] == [PHOENIX, OURS]

    args = _parser().parse_args(["--smoke"])
    doc = tmp_path / "benchmarks.md"
    write_section(SECTION, table, notes(result, command_line(args)), path=doc)
    written = doc.read_text()
    assert f"## {SECTION}\n" in written
    assert (
        "| figure | Arize Phoenix | AgentTrace | AgentTrace / Phoenix | target | met |" in written
    )
    assert f"Arize Phoenix {result.phoenix_version}" in written
    assert "| server | offered spans/s |" in written
    assert ("**Targets not met in this run**: " in written) != (
        "**Every target was met in this run.**" in written
    )
    assert "Under overload AgentTrace answered" in written
    assert ".venv/bin/python -m bench.phoenix --smoke" in written
