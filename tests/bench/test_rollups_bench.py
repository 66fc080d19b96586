"""The rollups benchmark on the session's PostgreSQL, with a few thousand spans: the
rollup answers match the raw ones, the worker replays every trace's event, the database
is reused. Times are never compared with a figure here."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bench.report import write_section
from bench.rollups import (
    QUERIES,
    SECTION,
    Options,
    _parser,
    command_line,
    notes,
    options_of,
    rows,
    run,
)
from devservices import DevServices

SPANS = 2_000 + uuid.uuid4().int % 100 * 10
"""Per test session: the bench's database is named after the span count."""


async def test_rollup_answers_match_the_raw_ones_and_the_database_is_reused(
    services: DevServices, tmp_path: Path
) -> None:
    options = Options(spans=SPANS, rounds=1, batch=70)
    first = await run(services.database_url, options, progress=False)
    assert first.seeded_s is not None
    assert (first.spans, first.traces, first.replay_events) == (SPANS, SPANS // 10, SPANS // 10)
    assert first.rollup_rows["span_rollups"] > 0
    assert first.rollup_rows["trace_rollups"] > 0
    assert first.backfill_s > 0
    assert first.replay_s > 0
    for times in first.queries.values():
        assert times.matched
        assert len(times.raw_ms) == len(times.rollup_ms) == 1

    table = rows(first)
    assert [r["query (7 days)"] for r in table] == list(QUERIES)
    for row in table:
        assert row["matches raw"] == "yes"
        assert row["speed-up (raw / rollups)"] == pytest.approx(
            row["raw p50 ms"] / row["rollups p50 ms"], rel=0.1
        )

    again = await run(services.database_url, options, progress=False)
    assert again.seeded_s is None  # the project was there, complete
    assert again.rollup_rows == first.rollup_rows  # rebuilt the same

    args = _parser().parse_args(["--spans", str(SPANS), "--rounds", "1"])
    doc = tmp_path / "benchmarks.md"
    write_section(SECTION, table, notes(first, command_line(args), True), path=doc)
    written = doc.read_text()
    assert f"## {SECTION}\n" in written
    assert "| query (7 days) | spans | raw p50 ms | rollups p50 ms |" in written
    assert "**Method.**" in written
    assert f"python -m bench.rollups --spans {SPANS} --rounds 1" in written


def test_options() -> None:
    assert options_of(_parser().parse_args([])) == Options(1_000_000, 5, 2_000)
    for bad in (["--spans", "0"], ["--rounds", "0"], ["--batch", "0"]):
        with pytest.raises(SystemExit):
            options_of(_parser().parse_args(bad))
