"""Writes a project's traces (by start time in a range), all of their spans and their
annotations to files, a page at a time.

Memory stays bounded by the page size whatever the project's size: traces are read in
keyset pages along ``ix_traces_project_start`` (newest first), and for each page of
traces their spans and annotations in keyset pages of the same size along the primary
key. Each page is written out before the next is read. Everything is read in one
REPEATABLE READ transaction, so the files are one consistent snapshot even while ingest
goes on: a trace's spans are exactly those its row counts.

A trace's spans all go with it, even those that started outside the range, so an import
rebuilds the same trace.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from agenttrace import __version__
from exports.columns import ColumnSpec, file_columns
from exports.errors import ExportNotFound, InvalidDestination
from exports.formats import EXTENSIONS, PageWriter, page_writer
from exports.location import HashingWriter, Location
from exports.manifest import (
    MANIFEST_NAME,
    TABLES,
    DataFormat,
    FileEntry,
    Manifest,
    iso_or_none,
)
from exports.progress import Progress, Silent

DEFAULT_PAGE_ROWS = 2_000
"""Rows read and written at a time: a page of spans with ~2 KB of payload each is a few
MB, and a round trip per page is small beside writing it."""


@dataclass(frozen=True, slots=True)
class ExportSummary:
    project: str
    destination: str
    data_format: DataFormat
    traces: int
    spans: int
    annotations: int
    seconds: float
    manifest: Manifest

    @property
    def spans_per_second(self) -> float:
        return self.spans / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _Range:
    project_id: uuid.UUID
    since: datetime | None
    until: datetime | None

    def where(self, alias: str) -> tuple[str, dict[str, Any]]:
        conditions = [f"{alias}.project_id = :project_id"]
        params: dict[str, Any] = {"project_id": self.project_id}
        if self.since is not None:
            conditions.append(f"{alias}.start_time >= :since")
            params["since"] = self.since
        if self.until is not None:
            conditions.append(f"{alias}.start_time < :until")
            params["until"] = self.until
        return " AND ".join(conditions), params


def _select(columns: Sequence[ColumnSpec], alias: str) -> str:
    return ", ".join(c.select_sql(alias) for c in columns)


class _Reader:
    """The keyset-paged queries of one export, on its snapshot connection."""

    def __init__(self, conn: AsyncConnection, scope: _Range, page_rows: int) -> None:
        self.conn = conn
        self.scope = scope
        self.page_rows = page_rows
        self.columns = {t: file_columns(t) for t in TABLES}

    async def totals(self) -> tuple[int, int]:
        where, params = self.scope.where("t")
        row = (
            await self.conn.execute(
                text(
                    f"SELECT count(*), COALESCE(sum(t.span_count), 0) FROM traces t WHERE {where}"
                ),
                params,
            )
        ).one()
        return int(row[0]), int(row[1])

    async def trace_pages(self) -> Any:
        where, params = self.scope.where("t")
        last: RowMapping | None = None
        while True:
            after = ""
            if last is not None:
                # Newest first, as the index is ordered (start_time DESC, trace_id).
                after = (
                    " AND t.start_time <= :last_start AND (t.start_time < :last_start"
                    " OR t.trace_id > :last_trace)"
                )
                params |= {"last_start": last["start_time"], "last_trace": last["trace_id"]}
            page = (
                (
                    await self.conn.execute(
                        text(
                            f"SELECT {_select(self.columns['traces'], 't')} FROM traces t"
                            f" WHERE {where}{after}"
                            " ORDER BY t.start_time DESC, t.trace_id LIMIT :limit"
                        ),
                        params | {"limit": self.page_rows},
                    )
                )
                .mappings()
                .all()
            )
            if not page:
                return
            yield page
            last = page[-1]

    async def span_pages(self, trace_ids: list[uuid.UUID]) -> Any:
        params: dict[str, Any] = {
            "project_id": self.scope.project_id,
            "ids": trace_ids,
            "limit": self.page_rows,
        }
        after = ""
        while True:
            page = (
                (
                    await self.conn.execute(
                        text(
                            f"SELECT {_select(self.columns['spans'], 's')} FROM spans s"
                            " WHERE s.project_id = :project_id"
                            f" AND s.trace_id = ANY(CAST(:ids AS uuid[])){after}"
                            " ORDER BY s.trace_id, s.span_id LIMIT :limit"
                        ),
                        params,
                    )
                )
                .mappings()
                .all()
            )
            if not page:
                return
            yield page
            after = " AND (s.trace_id, s.span_id) > (:last_trace, :last_span)"
            params |= {"last_trace": page[-1]["trace_id"], "last_span": page[-1]["span_id"]}

    async def annotation_pages(self, trace_ids: list[uuid.UUID]) -> Any:
        params: dict[str, Any] = {
            "project_id": self.scope.project_id,
            "ids": trace_ids,
            "limit": self.page_rows,
        }
        after = ""
        while True:
            page = (
                (
                    await self.conn.execute(
                        text(
                            f"SELECT {_select(self.columns['annotations'], 'a')}"
                            " FROM annotations a WHERE a.project_id = :project_id"
                            f" AND a.trace_id = ANY(CAST(:ids AS uuid[])){after}"
                            " ORDER BY a.id LIMIT :limit"
                        ),
                        params,
                    )
                )
                .mappings()
                .all()
            )
            if not page:
                return
            yield page
            after = " AND a.id > :last_id"
            params["last_id"] = page[-1]["id"]


async def _project_id(conn: AsyncConnection, name: str) -> uuid.UUID:
    found = await conn.scalar(text("SELECT id FROM projects WHERE name = :name"), {"name": name})
    if found is None:
        raise ExportNotFound(f"no project named {name!r}")
    return uuid.UUID(str(found))


class _Files:
    """The open data files of one export, each a hashing writer under a page writer."""

    def __init__(self, location: Location, data_format: DataFormat, reader: _Reader) -> None:
        self.names = {t: f"{t}.{EXTENSIONS[data_format]}" for t in TABLES}
        self.raw: dict[str, HashingWriter] = {}
        self.writers: dict[str, PageWriter] = {}
        self.rows = dict.fromkeys(TABLES, 0)
        for table in TABLES:
            self.raw[table] = location.create(self.names[table])
            self.writers[table] = page_writer(data_format, self.raw[table], reader.columns[table])

    async def write(self, table: str, page: Sequence[RowMapping]) -> None:
        # File I/O (possibly remote) off the event loop: the API keeps answering meanwhile.
        await asyncio.to_thread(self.writers[table].write_page, page)
        self.rows[table] += len(page)

    def close(self) -> None:
        for table in TABLES:
            self.writers[table].close()
            self.raw[table].close()

    def entries(self, reader: _Reader) -> dict[str, FileEntry]:
        return {
            table: FileEntry(
                name=self.names[table],
                columns=[c.name for c in reader.columns[table]],
                rows=self.rows[table],
                bytes=self.raw[table].size,
                sha256=self.raw[table].sha256,
            )
            for table in TABLES
        }


async def export_project(
    engine: AsyncEngine,
    *,
    project: str,
    destination: str,
    data_format: DataFormat,
    since: datetime | None = None,
    until: datetime | None = None,
    page_rows: int = DEFAULT_PAGE_ROWS,
    progress: Progress | None = None,
) -> ExportSummary:
    """Exports ``project``'s traces that started in ``[since, until)`` (either end open
    when None), with all their spans and annotations, to the directory ``destination``
    (a path or an fsspec URL), and writes its manifest last.

    Raises ExportNotFound for an unknown project, InvalidDestination when the
    destination cannot be opened or already holds an export."""
    progress = progress or Silent()
    if page_rows < 1:
        raise ValueError("page_rows must be at least 1")
    location = Location(destination)
    if location.exists(MANIFEST_NAME):
        raise InvalidDestination(f"{destination} already holds an export: choose another place")
    started = time.perf_counter()
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        scope = _Range(await _project_id(conn, project), since, until)
        reader = _Reader(conn, scope, page_rows)
        progress.started(*await reader.totals())
        await asyncio.to_thread(location.make)
        files = _Files(location, data_format, reader)
        try:
            async for traces in reader.trace_pages():
                await files.write("traces", traces)
                progress.page("traces", len(traces))
                trace_ids = [row["trace_id"] for row in traces]
                async for spans in reader.span_pages(trace_ids):
                    await files.write("spans", spans)
                    progress.page("spans", len(spans))
                async for annotations in reader.annotation_pages(trace_ids):
                    await files.write("annotations", annotations)
                    progress.page("annotations", len(annotations))
        finally:
            await asyncio.to_thread(files.close)
        await conn.rollback()  # read only: nothing to keep
    manifest = Manifest(
        project=project,
        since=iso_or_none(since),
        until=iso_or_none(until),
        data_format=data_format,
        agenttrace_version=__version__,
        exported_at=datetime.now(UTC).isoformat(),
        files=files.entries(reader),
    )
    with location.fs.open(location.path(MANIFEST_NAME), "wb") as out:
        out.write(manifest.to_json())
    return ExportSummary(
        project=project,
        destination=destination,
        data_format=data_format,
        traces=files.rows["traces"],
        spans=files.rows["spans"],
        annotations=files.rows["annotations"],
        seconds=time.perf_counter() - started,
        manifest=manifest,
    )
