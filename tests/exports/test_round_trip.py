"""Export then import into an empty database gives identical traces and spans, column by
column, in both formats, to a directory and to an fsspec URL; pages bound what is held."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from exports.export import export_project
from exports.import_ import import_project
from exports.manifest import DataFormat
from tests.exports.conftest import SOURCE_PROJECT
from tests.exports.seeding import (
    ODD_TRACE,
    SINCE,
    UNTIL,
    differences,
    project_id,
    rows_as_text,
    traces_in_range,
)


class CountingProgress:
    """Records every page an export writes or an import stores."""

    def __init__(self) -> None:
        self.totals: tuple[int, int] | None = None
        self.pages: list[tuple[str, int]] = []

    def started(self, traces: int, spans: int) -> None:
        self.totals = (traces, spans)

    def page(self, table: str, rows: int) -> None:
        self.pages.append((table, rows))

    def rows(self, table: str) -> int:
        return sum(n for t, n in self.pages if t == table)


@pytest.mark.parametrize(("data_format", "where"), [("jsonl", "memory"), ("parquet", "directory")])
async def test_export_then_import_into_an_empty_database_is_identical(
    source: AsyncEngine,
    source_project: uuid.UUID,
    empty: AsyncEngine,
    tmp_path: Path,
    data_format: DataFormat,
    where: str,
) -> None:
    destination = (
        f"memory://exports/{uuid.uuid4().hex}" if where == "memory" else str(tmp_path / "out")
    )
    exported = await export_project(
        source,
        project=SOURCE_PROJECT,
        destination=destination,
        data_format=data_format,
        since=SINCE,
        until=UNTIL,
    )
    in_range = await traces_in_range(source, source_project)
    assert uuid.UUID(ODD_TRACE) in in_range
    assert exported.traces == len(in_range) < 25  # the range left some traces out
    assert exported.annotations == 2

    imported = await import_project(empty, project="restored", source=destination)
    assert (imported.traces, imported.spans) == (exported.traces, exported.spans)
    assert imported.api_key is not None  # the project was created
    restored = await project_id(empty, "restored")
    assert restored is not None
    for table in ("traces", "spans"):
        before = await rows_as_text(source, table, source_project, in_range)
        after = await rows_as_text(empty, table, restored)
        assert len(before) == (exported.traces if table == "traces" else exported.spans)
        assert differences(before, after) == []
    async with empty.connect() as conn:
        annotations = (
            await conn.execute(
                text(
                    "SELECT name, score, label, comment, source, span_id, created_at"
                    " FROM annotations ORDER BY name"
                )
            )
        ).all()
    async with source.connect() as conn:
        originals = (
            await conn.execute(
                text(
                    "SELECT name, score, label, comment, source, span_id, created_at"
                    " FROM annotations ORDER BY name"
                )
            )
        ).all()
    assert annotations == originals
    async with empty.connect() as conn:
        dirty = await conn.scalar(
            text("SELECT count(*) FROM rollup_dirty_minutes WHERE project_id = :p"),
            {"p": restored},
        )
    assert dirty  # the analytics rollups will take the imported spans in


async def test_an_export_is_written_and_read_a_page_at_a_time(
    source: AsyncEngine, empty: AsyncEngine, tmp_path: Path
) -> None:
    page = 7
    written = CountingProgress()
    summary = await export_project(
        source,
        project=SOURCE_PROJECT,
        destination=f"file://{tmp_path}/paged",
        data_format="parquet",
        page_rows=page,
        progress=written,
    )
    assert written.totals == (summary.traces, summary.spans)
    assert all(0 < rows <= page for _, rows in written.pages)
    assert written.rows("spans") == summary.spans > 20 * page
    assert written.rows("traces") == summary.traces
    with fsspec.open(f"{tmp_path}/paged/spans.parquet", "rb") as handle:
        groups = pq.ParquetFile(handle).metadata
        sizes = [groups.row_group(i).num_rows for i in range(groups.num_row_groups)]
    assert max(sizes) <= page
    assert sum(sizes) == summary.spans

    stored = CountingProgress()
    await import_project(
        empty, project="paged", source=f"{tmp_path}/paged", batch_rows=page, progress=stored
    )
    span_batches = [rows for table, rows in stored.pages if table == "spans"]
    assert max(span_batches) <= page
    assert sum(span_batches) == summary.spans


async def test_merge_imports_the_same_export_again_without_change(
    source: AsyncEngine, source_project: uuid.UUID, empty: AsyncEngine, tmp_path: Path
) -> None:
    destination = str(tmp_path / "again")
    await export_project(
        source, project=SOURCE_PROJECT, destination=destination, data_format="jsonl"
    )
    await import_project(empty, project="twice", source=destination)
    restored = await project_id(empty, "twice")
    assert restored is not None
    first = {t: await rows_as_text(empty, t, restored) for t in ("traces", "spans")}
    again = await import_project(empty, project="twice", source=destination, merge=True)
    assert again.api_key is None
    second = {t: await rows_as_text(empty, t, restored) for t in ("traces", "spans")}
    for table in ("traces", "spans"):
        # A merge touches the traces (updated_at); nothing else changes.
        for rows in (first[table], second[table]):
            for row in rows.values():
                row.pop("updated_at", None)
        assert differences(first[table], second[table]) == []
    everything = await rows_as_text(source, "spans", source_project)
    assert len(second["spans"]) == len(everything)
