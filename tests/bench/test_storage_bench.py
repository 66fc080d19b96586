"""The storage benchmark on the session's PostgreSQL, with a few hundred spans: each
shape seeded into a database of its own, then reused; the sizes add up. Sizes are
never compared with a figure here."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.report import write_section
from bench.seed import project_id_for, seed
from bench.storage import (
    SECTION,
    Options,
    _parser,
    command_line,
    database_name,
    measure_shape,
    notes,
    options_of,
    rows,
    run,
    sibling_url,
    wire_bytes,
)
from bench.workload import Workload
from devservices import DevServices

SPANS = 300 + uuid.uuid4().int % 100 * 10
"""Per test session: the bench's databases are named after the span count."""


async def test_each_shape_is_measured_in_its_own_database_then_reused(
    services: DevServices, tmp_path: Path
) -> None:
    options = Options(spans=SPANS)
    first = await run(services.database_url, options, progress=False)
    again = await run(services.database_url, options, progress=False)

    assert [s.shape for s in first.shapes] == ["otlp", "native"]
    for shaped, reused in zip(first.shapes, again.shapes, strict=True):
        assert shaped.database == database_name(shaped.shape, SPANS)
        assert shaped.seeded_s is not None
        assert reused.seeded_s is None  # the project was there, complete
        assert (shaped.spans, shaped.traces) == (SPANS, SPANS // 10)
        assert shaped.tables["spans"].rows == reused.tables["spans"].rows == SPANS
        assert shaped.tables["traces"].rows == SPANS // 10
        for size in shaped.tables.values():
            assert size.heap > 0
            assert size.indexes == sum(size.index_sizes.values())
            assert size.other >= 0
            assert size.total == size.heap + size.toast + size.indexes + size.other
    otlp, native = first.shapes
    for shaped in first.shapes:
        assert "attributes" in shaped.span_columns
        assert all(size >= 0 for size in shaped.span_columns.values())
    assert otlp.span_columns["attributes"] > native.span_columns["attributes"]
    # ... but not the prompts and completions again: those are in input and output only.
    assert otlp.span_columns["attributes"] < otlp.span_columns["input"] / 2
    # otlp also keeps the resource: its spans take more room.
    assert otlp.span_columns["resource"] > native.span_columns["resource"]
    assert otlp.tables["spans"].total > native.tables["spans"].total

    table = rows(first)
    assert [(r["shape"], r["table"]) for r in table] == [
        (shape, table)
        for shape in ("otlp", "native")
        for table in ("spans", "traces", "**spans + traces**")
    ]
    for shaped, total_row in zip(first.shapes, table[2::3], strict=True):
        assert total_row["bytes/trace"] == pytest.approx(shaped.total / shaped.traces)
        assert total_row["1M traces GB"] == pytest.approx(shaped.per_trace * 1e6 / 1e9)
        assert total_row["ratio to 5 GB"] == pytest.approx(total_row["1M traces GB"] / 5)

    args = _parser().parse_args(["--database-url", services.database_url, "--spans", str(SPANS)])
    doc = tmp_path / "benchmarks.md"
    write_section(SECTION, table, notes(first, command_line(args), False), path=doc)
    written = doc.read_text()
    assert f"## {SECTION}\n" in written
    assert "| shape | table | rows | heap MiB | TOAST MiB | indexes MiB | total MiB |" in written
    assert "ratio to 5 GB" in written
    assert "Where a span's bytes go" in written
    assert "**Before and after.** Before = commit" in written
    assert "otlp 28,908 -> " in written
    assert "otlp reused" not in written
    assert f'--database-url "$AGENTTRACE_DATABASE_URL" --spans {SPANS}' in written


async def test_a_database_holding_other_projects_is_refused(services: DevServices) -> None:
    spans = SPANS + 5
    await measure_shape(services.database_url, "native", spans, wire_bytes(2), progress=False)
    url = sibling_url(services.database_url, database_name("native", spans))
    engine = create_async_engine(url, pool_size=1)
    try:
        other, _ = await project_id_for(engine, "someone-else")
        await seed(engine, other, 20, workload=Workload(seed=99), progress=None)
    finally:
        await engine.dispose()
    with pytest.raises(RuntimeError, match="not only the project's"):
        await measure_shape(services.database_url, "native", spans, wire_bytes(2), progress=False)


def test_options() -> None:
    assert options_of(_parser().parse_args([])) == Options(1_000_000, ("otlp", "native"))
    assert options_of(_parser().parse_args(["--shapes", "native"])).shapes == ("native",)
    assert command_line(_parser().parse_args(["--shapes", "native", "--spans", "10"])) == (
        ".venv/bin/python -m bench.storage --spans 10 --shapes native"
    )
    for bad in (["--shapes", "csv"], ["--spans", "0"]):
        with pytest.raises(SystemExit):
            options_of(_parser().parse_args(bad))


async def test_a_database_seeded_in_an_older_layout_is_refused(services: DevServices) -> None:
    spans = SPANS + 7
    await measure_shape(services.database_url, "otlp", spans, wire_bytes(2), progress=False)
    url = sibling_url(services.database_url, database_name("otlp", spans))
    engine = create_async_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            # As OTLP ingest stored spans before it stopped keeping mapped attributes twice.
            await conn.execute(
                text(
                    "UPDATE spans SET attributes = attributes"
                    " || jsonb_build_object('input.value', input::text)"
                )
            )
    finally:
        await engine.dispose()
    with pytest.raises(RuntimeError, match="another layout"):
        await measure_shape(services.database_url, "otlp", spans, wire_bytes(2), progress=False)
