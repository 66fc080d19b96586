"""Reads an export back into a project, in batches, in one transaction.

Before anything is stored, the manifest is read and every file's size and SHA-256 are
checked against it, as are the columns, so a damaged or foreign export stores nothing.
Then, in one transaction:

1. the trace rows are staged in a temporary table, and the target project is checked for
   any of their trace ids (refused unless ``merge``);
2. the spans are stored a batch at a time through the storage worker's own path
   (``workers.span_store.store_spans``: the upsert, then the recompute of the traces),
   with no pricing or masking, as they were already applied before the export, and the
   minutes they fall in are marked for the analytics rollups (storage/rollups.py);
3. the trace rows' own values are written over the recomputed ones: the hand-made
   ``manual_tags``/``removed_tags`` (and the ``tags`` they give) that spans cannot
   rebuild, and the aggregates and timestamps as exported, so the traces are identical
   even when the recompute has changed since. With ``merge``, a trace that was already in
   the project keeps its recomputed aggregates and gains the export's hand-made tags;
4. the annotations are inserted (ones already there, by id, are left as they are).

Spans' ``updated_at`` is the time of the import: only the storage path writes spans.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, Table, insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from exports.columns import PROJECT_COLUMN, SERVER_TIMESTAMPS, ColumnSpec, file_columns, table
from exports.errors import ExportNotFound, InvalidExport, TracesAlreadyExist
from exports.formats import read_batches
from exports.location import Location
from exports.manifest import MANIFEST_NAME, TABLES, DataFormat, Manifest
from exports.progress import Progress, Silent
from storage.projects import ProjectExists, create_project
from storage.rollups import mark_traces
from workers.span_rows import SpanRow, merge_duplicates
from workers.span_store import store_spans

DEFAULT_BATCH_ROWS = 2_000
_STAGED = "import_traces"
_SPAN_FIELDS = {f.name: f for f in dataclasses.fields(SpanRow)}


@dataclass(frozen=True, slots=True)
class ImportSummary:
    project: str
    source: str
    data_format: DataFormat
    traces: int
    spans: int
    annotations: int
    seconds: float
    api_key: str | None
    """The key of the project the import created (shown once), None when it existed."""

    @property
    def spans_per_second(self) -> float:
        return self.spans / self.seconds if self.seconds > 0 else 0.0


def read_manifest(location: Location) -> Manifest:
    if not location.exists(MANIFEST_NAME):
        raise ExportNotFound(
            f"{location.url} holds no export: {MANIFEST_NAME} is missing (an export writes"
            " it last, so the export may also have been cut short)"
        )
    with location.open(MANIFEST_NAME) as handle:
        return Manifest.from_json(handle.read())


def _columns_of(manifest: Manifest, name: str) -> tuple[ColumnSpec, ...]:
    """The specs of the columns the file holds; InvalidExport for one this server cannot
    store."""
    known = {c.name: c for c in file_columns(name)}
    listed = manifest.files[name].columns
    unknown = [c for c in listed if c not in known]
    if unknown:
        raise InvalidExport(f"the {name} file has columns this server lacks: {unknown}")
    if name == "spans":
        unstorable = [c for c in listed if c not in _SPAN_FIELDS and c not in SERVER_TIMESTAMPS]
        required = [
            f.name
            for f in _SPAN_FIELDS.values()
            if f.name != PROJECT_COLUMN
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        missing = [c for c in required if c not in listed]
        if unstorable or missing:
            raise InvalidExport(
                f"the spans file cannot be stored here: columns {unstorable} are not stored"
                f" by this server, columns {missing} are missing"
            )
    keys = {"traces": ["trace_id"], "spans": ["trace_id", "span_id"]}.get(name, ["id", "trace_id"])
    if absent := [k for k in keys if k not in listed]:
        raise InvalidExport(f"the {name} file has no {' or '.join(absent)} column")
    return tuple(known[c] for c in listed)


def verify(location: Location, manifest: Manifest) -> None:
    """Checks every listed file's size and SHA-256 against the manifest."""
    for name in TABLES:
        entry = manifest.files.get(name)
        if entry is None:
            continue
        if "/" in entry.name or entry.name.startswith("."):
            raise InvalidExport(f"file name {entry.name!r} in {MANIFEST_NAME} is not a plain name")
        digest, size = location.sha256(entry.name)
        if (digest, size) != (entry.sha256, entry.bytes):
            raise InvalidExport(
                f"{entry.name} does not match {MANIFEST_NAME} (SHA-256 {digest[:12]}..., {size}"
                f" bytes; expected {entry.sha256[:12]}..., {entry.bytes} bytes): the file is"
                " damaged or was changed"
            )


def _span_row(project_id: uuid.UUID, row: dict[str, Any]) -> SpanRow:
    values = {k: v for k, v in row.items() if k in _SPAN_FIELDS}
    return SpanRow(**(values | {PROJECT_COLUMN: project_id}))


async def _next_batch(batches: Iterator[list[dict[str, Any]]]) -> list[dict[str, Any]] | None:
    # Reading (maybe from S3) and decoding off the event loop.
    return await asyncio.to_thread(next, batches, None)


class _Importer:
    def __init__(
        self,
        conn: AsyncConnection,
        location: Location,
        manifest: Manifest,
        project_id: uuid.UUID,
        batch_rows: int,
        progress: Progress,
    ) -> None:
        self.conn = conn
        self.location = location
        self.manifest = manifest
        self.project_id = project_id
        self.batch_rows = batch_rows
        self.progress = progress
        self.columns = {n: _columns_of(manifest, n) for n in TABLES if n in manifest.files}
        self.counts = dict.fromkeys(TABLES, 0)

    async def _batches(self, name: str) -> Any:
        with self.location.open(self.manifest.files[name].name) as handle:
            batches = read_batches(
                self.manifest.data_format, handle, self.columns[name], self.batch_rows
            )
            while (batch := await _next_batch(batches)) is not None:
                self.counts[name] += len(batch)
                yield batch

    async def stage_traces(self) -> None:
        await self.conn.execute(
            text(f"CREATE TEMP TABLE {_STAGED} ON COMMIT DROP AS SELECT * FROM traces WITH NO DATA")
        )
        await self.conn.execute(
            text(f"ALTER TABLE {_STAGED} ADD COLUMN existed boolean NOT NULL DEFAULT false")
        )
        traces = table("traces")
        names = [PROJECT_COLUMN, *(c.name for c in self.columns["traces"])]
        staged = Table(_STAGED, MetaData(), *(Column(n, traces.columns[n].type) for n in names))
        async for batch in self._batches("traces"):
            await self.conn.execute(
                insert(staged), [row | {PROJECT_COLUMN: self.project_id} for row in batch]
            )
        await self.conn.execute(text(f"CREATE UNIQUE INDEX ON {_STAGED} (trace_id)"))
        await self.conn.execute(text(f"ANALYZE {_STAGED}"))

    async def check_existing(self, merge: bool) -> None:
        existing = (
            await self.conn.execute(
                text(
                    f"SELECT i.trace_id FROM {_STAGED} i JOIN traces t"
                    " ON t.project_id = i.project_id AND t.trace_id = i.trace_id"
                )
            )
        ).scalars()
        found = [uuid.UUID(str(t)) for t in existing]
        if found and not merge:
            raise TracesAlreadyExist(
                f"the project already holds {len(found)} of the {self.counts['traces']} traces"
                f" of this export (such as {found[0].hex}); import into another project, or"
                " pass --merge to upsert into them"
            )
        await self.conn.execute(
            text(
                f"UPDATE {_STAGED} i SET existed = true FROM traces t"
                " WHERE t.project_id = i.project_id AND t.trace_id = i.trace_id"
            )
        )

    async def store_spans(self) -> None:
        async for batch in self._batches("spans"):
            rows = merge_duplicates([_span_row(self.project_id, r) for r in batch])
            strays = await self.conn.scalar(
                text(
                    f"SELECT count(*) FROM unnest(CAST(:ids AS uuid[])) AS s(trace_id)"
                    f" WHERE NOT EXISTS (SELECT 1 FROM {_STAGED} i WHERE i.trace_id = s.trace_id)"
                ),
                {"ids": list({r.trace_id for r in rows})},
            )
            if strays:
                raise InvalidExport("the spans file holds spans of traces the traces file lacks")
            stored = await store_spans(self.conn, rows)
            # As the analytics worker does for stored spans: their minutes' rollups are
            # recomputed from the raw rows once they settle.
            await mark_traces(self.conn, [(t.project_id, t.trace_id) for t in stored])
            self.progress.page("spans", len(batch))

    async def finish_traces(self) -> None:
        own = [c.name for c in self.columns["traces"] if c.name != "trace_id"]
        assignments = ", ".join(f'"{n}" = i."{n}"' for n in own)
        joined = f"FROM {_STAGED} i WHERE t.project_id = i.project_id AND t.trace_id = i.trace_id"
        updated = await self.conn.execute(
            text(f"UPDATE traces t SET {assignments} {joined} AND NOT i.existed")
        )
        fresh = await self.conn.scalar(text(f"SELECT count(*) FROM {_STAGED} WHERE NOT existed"))
        if updated.rowcount != fresh:
            raise InvalidExport("the traces file holds traces without any span in the spans file")
        if {"manual_tags", "removed_tags"} <= set(own):
            # Merged into a trace already here: its own hand-made tags stay, the export's join.
            await self.conn.execute(
                text(
                    "UPDATE traces t SET"
                    " manual_tags = ARRAY(SELECT DISTINCT x FROM"
                    "   unnest(t.manual_tags || i.manual_tags) AS x ORDER BY x),"
                    " removed_tags = ARRAY(SELECT DISTINCT x FROM"
                    "   unnest(t.removed_tags || i.removed_tags) AS x ORDER BY x),"
                    " tags = ARRAY(SELECT DISTINCT x FROM unnest(t.tags || i.manual_tags) AS x"
                    "   WHERE x <> ALL(t.removed_tags || i.removed_tags) ORDER BY x),"
                    f" updated_at = now() {joined} AND i.existed"
                )
            )
        self.progress.page("traces", self.counts["traces"])

    async def store_annotations(self) -> None:
        if "annotations" not in self.manifest.files:
            return
        annotations = table("annotations")
        async for batch in self._batches("annotations"):
            ids = [row["id"] for row in batch]
            # Annotation ids are unique across projects: one exported from another project
            # of this database gets an id of its own (the same one on every import).
            taken = set(
                (
                    await self.conn.execute(
                        text(
                            "SELECT id FROM annotations WHERE id = ANY(CAST(:ids AS uuid[]))"
                            " AND project_id <> :project_id"
                        ),
                        {"ids": ids, "project_id": self.project_id},
                    )
                ).scalars()
            )
            rows = [
                row
                | {PROJECT_COLUMN: self.project_id}
                | (
                    {"id": uuid.uuid5(self.project_id, str(row["id"]))}
                    if row["id"] in taken
                    else {}
                )
                for row in batch
            ]
            try:
                async with self.conn.begin_nested():
                    await self.conn.execute(
                        pg_insert(annotations).on_conflict_do_nothing(index_elements=["id"]),
                        rows,
                    )
            except IntegrityError:
                raise InvalidExport(
                    "the annotations file refers to traces or spans the export does not hold"
                ) from None
            self.progress.page("annotations", len(batch))

    def check_counts(self) -> None:
        for name, entry in self.manifest.files.items():
            if self.counts.get(name, 0) != entry.rows:
                raise InvalidExport(
                    f"{entry.name} holds {self.counts.get(name, 0)} rows, the manifest says"
                    f" {entry.rows}"
                )


async def _target_project(engine: AsyncEngine, name: str) -> tuple[uuid.UUID, str | None]:
    async with engine.connect() as conn:
        found = await conn.scalar(text("SELECT id FROM projects WHERE name = :n"), {"n": name})
    if found is not None:
        return uuid.UUID(str(found)), None
    try:
        created = await create_project(engine, name)
    except ProjectExists:  # created meanwhile by someone else
        return await _target_project(engine, name)
    return created.id, created.api_key


async def import_project(
    engine: AsyncEngine,
    *,
    project: str,
    source: str,
    merge: bool = False,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
) -> ImportSummary:
    """Imports the export at ``source`` (a path or an fsspec URL) into ``project``,
    creating it when missing.

    Raises ExportNotFound (no manifest or a listed file missing), InvalidExport (a file
    that does not match its manifest or cannot be read), TracesAlreadyExist (the project
    already holds one of the traces and ``merge`` is false). On any error nothing is
    stored, and a project this call created is removed again."""
    progress = progress or Silent()
    started = time.perf_counter()
    location = Location(source)
    manifest = await asyncio.to_thread(read_manifest, location)
    for name in manifest.files:
        if name in TABLES:
            _columns_of(manifest, name)
    await asyncio.to_thread(verify, location, manifest)
    progress.started(manifest.files["traces"].rows, manifest.files["spans"].rows)
    project_id, api_key = await _target_project(engine, project)
    try:
        async with engine.begin() as conn:
            importer = _Importer(conn, location, manifest, project_id, batch_rows, progress)
            await importer.stage_traces()
            await importer.check_existing(merge)
            await importer.store_spans()
            await importer.finish_traces()
            await importer.store_annotations()
            importer.check_counts()
    except BaseException:
        if api_key is not None:
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM projects WHERE id = :id"), {"id": project_id})
        raise
    return ImportSummary(
        project=project,
        source=source,
        data_format=manifest.data_format,
        traces=importer.counts["traces"],
        spans=importer.counts["spans"],
        annotations=importer.counts["annotations"],
        seconds=time.perf_counter() - started,
        api_key=api_key,
    )
