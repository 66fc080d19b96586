"""The storage benchmark: bytes on disk per trace and per span, after seeding.

    python -m bench.storage                      # own throwaway PostgreSQL, 1,000,000 spans a shape
    python -m bench.storage --database-url URL   # on that server; reuses databases it seeded
    python -m bench.storage --spans 20000 --no-write   # smoke run, seconds

For each shape (``otlp``: spans as the stock OTLP exporter's are stored, with the
resource and the OpenInference attributes no column holds; ``native``: as the native API
stores them) the bench seeds ``--spans`` spans of default
10-span traces with bench/seed.py (the storage worker's own ``store_spans``) into a
database of its own, ``bench_storage_<shape>_<spans>`` on the server, holding nothing
else, so the tables' sizes are the project's. A database that already holds the project
complete is reused as it is (an interrupted seeding is completed; the workload's ``now``
is fixed, so the rows are the same).

Then a plain ``VACUUM`` and ``ANALYZE`` of ``spans`` and ``traces``, and for each table
``pg_relation_size`` (heap), the TOAST table with its index, ``pg_indexes_size`` and
``pg_total_relation_size`` (all of it, the free-space and visibility maps too): bytes per
span and per trace, and the total extrapolated to 1,000,000 traces beside the target of
"1M traces in about 5 GB" (the ratio). The wire size of the same traces (OTLP protobuf and
native JSON bodies) is given beside it.

Prints the table and rewrites the "Storage: bytes per trace" section of
docs/benchmarks.md (``--no-write`` to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.report import markdown_table, write_section
from bench.seed import project_id_for, seed
from bench.workload import Shape, Workload, native_bytes, otlp_bytes, span_rows
from storage.database import to_async_url
from storage.migrate import upgrade_async

SECTION = "Storage: bytes per trace"
ROOT = Path(__file__).resolve().parent.parent
PROJECT = "bench-storage"
SHAPES: tuple[Shape, ...] = ("otlp", "native")
TABLES = ("spans", "traces")
WORKLOAD = Workload(seed=0)
"""Default 10-span traces over the 7 days before 2026-01-01 (a fixed ``now``)."""
TARGET_TRACES = 1_000_000
TARGET_BYTES = 5 * 10**9
"""The target: 1M traces in about 5 GB (decimal gigabytes)."""
WIRE_SAMPLE = 1_000
"""Traces whose encoded size gives the wire bytes per trace."""
BEFORE_COMMIT = "37e825209e38"
BEFORE_BYTES_PER_TRACE: dict[Shape, int] = {"otlp": 28_908, "native": 15_779}
"""Both tables, 1M spans a shape, measured at BEFORE_COMMIT (2026-11-25), when OTLP ingest
still kept every attribute in ``attributes`` as well as in its column."""


@dataclass(frozen=True, slots=True)
class Options:
    spans: int = 1_000_000
    shapes: tuple[Shape, ...] = SHAPES


DEFAULTS = Options()


def database_name(shape: Shape, spans: int) -> str:
    return f"bench_storage_{shape}_{spans}"


def sibling_url(url: str, database: str) -> str:
    """``url`` (any postgresql URL) with another database, for asyncpg."""
    return make_url(to_async_url(url)).set(database=database).render_as_string(hide_password=False)


async def ensure_database(url: str, database: str) -> None:
    """Creates ``database`` on the server of ``url`` unless it exists."""
    engine = create_async_engine(to_async_url(url), pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
            )
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        await engine.dispose()


@dataclass(frozen=True, slots=True)
class TableSize:
    rows: int
    total: int
    """pg_total_relation_size: heap, TOAST, indexes, free-space and visibility maps."""
    heap: int
    """pg_relation_size: the main fork."""
    toast: int
    """The TOAST table and its index (pg_total_relation_size of reltoastrelid)."""
    indexes: int
    """pg_indexes_size."""
    index_sizes: dict[str, int] = field(default_factory=dict)

    @property
    def other(self) -> int:
        """Free-space and visibility maps (what the total holds beyond the rest)."""
        return self.total - self.heap - self.toast - self.indexes


@dataclass(slots=True)
class ShapeResult:
    shape: Shape
    database: str
    spans: int
    traces: int
    seeded_s: float | None
    """Seconds spent seeding now; None when the database was reused as it was."""
    tables: dict[str, TableSize]
    wire_bytes: dict[str, float]
    """Mean encoded bytes of one trace: OTLP protobuf and native JSON."""
    span_columns: dict[str, float] = field(default_factory=dict)
    """Mean stored bytes of each spans column per span, largest first."""

    @property
    def total(self) -> int:
        return sum(t.total for t in self.tables.values())

    @property
    def per_trace(self) -> float:
        return self.total / self.traces

    @property
    def per_span(self) -> float:
        return self.total / self.spans

    @property
    def target_extrapolation(self) -> float:
        """Bytes for TARGET_TRACES of these traces."""
        return self.per_trace * TARGET_TRACES


@dataclass(slots=True)
class Result:
    shapes: list[ShapeResult] = field(default_factory=list)
    server: dict[str, str] = field(default_factory=dict)


async def _project_spans(engine: AsyncEngine, project_id: Any) -> int:
    async with engine.connect() as conn:
        total = await conn.scalar(
            text("SELECT COALESCE(sum(span_count), 0) FROM traces WHERE project_id = :p"),
            {"p": project_id},
        )
    return int(total or 0)


async def _stored_as_generated(engine: AsyncEngine, project_id: Any, shape: Shape) -> bool:
    """Whether the first trace's spans are stored as the storage worker would store them
    today (their attributes and resource), so a reused database is not an old layout."""
    generated = span_rows(project_id, [WORKLOAD.trace(0)], shape)
    expected = {row.span_id: (row.attributes, row.resource) for row in generated}
    async with engine.connect() as conn:
        stored = await conn.execute(
            text(
                "SELECT span_id, attributes, resource FROM spans"
                " WHERE project_id = :p AND trace_id = :t"
            ),
            {"p": project_id, "t": generated[0].trace_id},
        )
        found = {int(span_id): (attributes, resource) for span_id, attributes, resource in stored}
    return found == expected


async def table_sizes(engine: AsyncEngine) -> dict[str, TableSize]:
    sizes: dict[str, TableSize] = {}
    async with engine.connect() as conn:
        for table in TABLES:
            row = (
                await conn.execute(
                    text(
                        "SELECT pg_total_relation_size(c.oid), pg_relation_size(c.oid),"
                        " COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0),"
                        " pg_indexes_size(c.oid)"
                        " FROM pg_class c WHERE c.oid = CAST(:t AS regclass)"
                    ),
                    {"t": f"public.{table}"},
                )
            ).one()
            indexes = await conn.execute(
                text(
                    "SELECT i.indexrelid::regclass::text, pg_total_relation_size(i.indexrelid)"
                    " FROM pg_index i WHERE i.indrelid = CAST(:t AS regclass)"
                    " ORDER BY 2 DESC"
                ),
                {"t": f"public.{table}"},
            )
            count = await conn.scalar(text(f"SELECT count(*) FROM {table}"))
            sizes[table] = TableSize(
                rows=int(count or 0),
                total=int(row[0]),
                heap=int(row[1]),
                toast=int(row[2]),
                indexes=int(row[3]),
                index_sizes={str(name): int(size) for name, size in indexes},
            )
    return sizes


async def column_bytes(engine: AsyncEngine, table: str) -> dict[str, float]:
    """Mean ``pg_column_size`` of each column of ``table`` per row, largest first: the
    stored form (compressed, and TOASTed values at their compressed size); NULL is 0."""
    async with engine.connect() as conn:
        names = [
            str(name)
            for (name,) in await conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = :t ORDER BY ordinal_position"
                ),
                {"t": table},
            )
        ]
        sums = ", ".join(f'COALESCE(avg(COALESCE(pg_column_size("{n}"), 0)), 0)' for n in names)
        row = (await conn.execute(text(f"SELECT {sums} FROM {table}"))).one()
    sizes = {name: float(value) for name, value in zip(names, row, strict=True)}
    return dict(sorted(sizes.items(), key=lambda item: -item[1]))


async def server_settings(url: str) -> dict[str, str]:
    names = ("server_version", "default_toast_compression", "block_size", "fsync")
    engine = create_async_engine(to_async_url(url), pool_size=1)
    try:
        async with engine.connect() as conn:
            return {name: str(await conn.scalar(text(f"SHOW {name}"))) for name in names}
    finally:
        await engine.dispose()


def wire_bytes(sample: int = WIRE_SAMPLE) -> dict[str, float]:
    traces = list(WORKLOAD.traces(sample))
    return {
        "otlp": sum(len(otlp_bytes([t])) for t in traces) / len(traces),
        "native": sum(len(native_bytes([t])) for t in traces) / len(traces),
    }


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


async def measure_shape(
    server_url: str, shape: Shape, spans: int, wire: dict[str, float], *, progress: bool = True
) -> ShapeResult:
    """Seeds (or reuses) the shape's own database, VACUUM, ANALYZE, then the sizes."""
    database = database_name(shape, spans)
    await ensure_database(server_url, database)
    url = sibling_url(server_url, database)
    await upgrade_async(url)
    engine = create_async_engine(url, pool_size=1)
    try:
        project_id, _ = await project_id_for(engine, PROJECT)
        seeded_s = None
        if await _project_spans(engine, project_id) != spans:
            _say(progress, f"{shape}: seeding {spans:,} spans into database {database!r}")
            started = time.perf_counter()
            await seed(
                engine,
                project_id,
                spans,
                workload=WORKLOAD,
                shape=shape,
                progress=sys.stderr if progress else None,
            )
            seeded_s = time.perf_counter() - started
        else:
            _say(progress, f"{shape}: database {database!r} already holds the project; reused")
        stored = await _project_spans(engine, project_id)
        if stored != spans:
            raise RuntimeError(f"{database}: the project holds {stored:,} spans, not {spans:,}")
        if not await _stored_as_generated(engine, project_id, shape):
            raise RuntimeError(
                f"{database} holds spans stored in another layout than ingest's today (an"
                f' older version seeded it): DROP DATABASE "{database}" and run again'
            )
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM spans, traces"))
            await conn.execute(text("ANALYZE spans, traces"))
        tables = await table_sizes(engine)
        span_columns = await column_bytes(engine, "spans")
    finally:
        await engine.dispose()
    traces = WORKLOAD.trace_count(spans)
    if tables["spans"].rows != spans or tables["traces"].rows != traces:
        raise RuntimeError(
            f"{database} holds {tables['spans'].rows:,} spans and {tables['traces'].rows:,}"
            f" traces, not only the project's {spans:,} and {traces:,}: its sizes would not"
            " be the project's"
        )
    return ShapeResult(shape, database, spans, traces, seeded_s, tables, wire, span_columns)


async def run(server_url: str, options: Options, *, progress: bool = True) -> Result:
    result = Result(server=await server_settings(server_url))
    wire = wire_bytes()
    for shape in options.shapes:
        result.shapes.append(
            await measure_shape(server_url, shape, options.spans, wire, progress=progress)
        )
    return result


# --- the report -----------------------------------------------------------------------

MIB = 2**20


def _mib(value: int) -> float:
    return value / MIB


def rows(result: Result) -> list[dict[str, Any]]:
    table: list[dict[str, Any]] = []
    for shaped in result.shapes:
        for name, size in shaped.tables.items():
            table.append(
                {
                    "shape": shaped.shape,
                    "table": name,
                    "rows": size.rows,
                    "heap MiB": _mib(size.heap),
                    "TOAST MiB": _mib(size.toast),
                    "indexes MiB": _mib(size.indexes),
                    "total MiB": _mib(size.total),
                    "bytes/span": size.total / shaped.spans,
                    "bytes/trace": size.total / shaped.traces,
                }
            )
        heap = sum(t.heap for t in shaped.tables.values())
        toast = sum(t.toast for t in shaped.tables.values())
        indexes = sum(t.indexes for t in shaped.tables.values())
        table.append(
            {
                "shape": shaped.shape,
                "table": "**spans + traces**",
                "rows": None,
                "heap MiB": _mib(heap),
                "TOAST MiB": _mib(toast),
                "indexes MiB": _mib(indexes),
                "total MiB": _mib(shaped.total),
                "bytes/span": shaped.per_span,
                "bytes/trace": shaped.per_trace,
                "1M traces GB": shaped.target_extrapolation / 1e9,
                "ratio to 5 GB": shaped.target_extrapolation / TARGET_BYTES,
            }
        )
    return table


def command_line(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "-m", "bench.storage"]
    if args.database_url:
        parts += ["--database-url", '"$AGENTTRACE_DATABASE_URL"']
    if args.spans != DEFAULTS.spans:
        parts += ["--spans", str(args.spans)]
    if args.shapes != ",".join(DEFAULTS.shapes):
        parts += ["--shapes", args.shapes]
    return " ".join(p if p.startswith('"$') else shlex.quote(p) for p in parts)


def _per_million(shaped: ShapeResult, part: str) -> float:
    """GB (10^9 bytes) of one part (heap, toast, indexes) of both tables per 1M traces."""
    total = sum(int(getattr(t, part)) for t in shaped.tables.values())
    return total / shaped.traces * TARGET_TRACES / 1e9


def _indexes(size: TableSize) -> str:
    return ", ".join(f"{name} {_mib(value):,.0f}" for name, value in size.index_sizes.items())


def notes(result: Result, command: str, started_here: bool) -> str:
    server = result.server
    version = server.get("server_version", "?")
    where = (
        f"a devservices PostgreSQL {version} started by the bench"
        if started_here
        else f"PostgreSQL {version}"
    )
    seeded = "; ".join(
        f"{s.shape} seeded in {s.seeded_s:.0f} s" if s.seeded_s is not None else f"{s.shape} reused"
        for s in result.shapes
    )
    first = result.shapes[0]
    spans, traces = first.spans, first.traces
    lines = [
        f"Each shape: {spans:,} spans in {traces:,} default 10-span traces of bench/workload.py"
        " (an AGENT root, 3 LLM calls with ~1 KB of chat messages in and ~500 B out, 4 TOOL"
        " and 2 RETRIEVER spans), written by bench/seed.py through the storage worker's"
        " `store_spans` (10,000 spans a transaction) into a database of its own"
        f" (`bench_storage_<shape>_<spans>`; {seeded}), then a plain `VACUUM` and"
        f" `ANALYZE` of both tables. Server: {where}"
        f" (default_toast_compression {server.get('default_toast_compression', '?')},"
        f" block size {server.get('block_size', '?')}, fsync {server.get('fsync', '?')}).",
        "",
        "**otlp** = spans as OTLP ingest stores them: with the resource, and in"
        " `attributes` only what no column holds (`llm.provider`, `otel.scope.name`...):"
        " `input.value`, `output.value`, `llm.model_name`, the token counts and the other"
        " mapped attributes live in their columns alone (ingest/conventions.py,"
        " docs/graphql.md). **native** = as the native API stores them.",
        "",
        "Sizes: **heap** = `pg_relation_size` (main fork); **TOAST** = the TOAST table and its"
        " index (`pg_total_relation_size(reltoastrelid)`); **indexes** = `pg_indexes_size`;"
        " **total** = `pg_total_relation_size` (those three plus the free-space and"
        " visibility maps). bytes/span and bytes/trace divide a table's total by the"
        " project's spans and traces (the `spans + traces` row: both tables).",
        "",
        "**1M traces GB** = bytes/trace of both tables times 1,000,000 traces (10,000,000"
        " spans), in 10^9 bytes: a linear extrapolation (B-tree depth and the traces"
        " indexes grow slightly faster than linearly). **ratio to 5 GB** = that over the"
        " target of 1M traces in about 5 GB (5 x 10^9 bytes; 5 GiB would be 7% more room)."
        " Per 1M traces, of that: "
        + "; ".join(
            f"{s.shape} heap {_per_million(s, 'heap'):.1f} GB, TOAST"
            f" {_per_million(s, 'toast'):.1f} GB, indexes {_per_million(s, 'indexes'):.1f} GB"
            for s in result.shapes
        )
        + ".",
        "",
        "Beside it, the same traces on the wire (mean of 1,000, one trace a body): OTLP"
        f" protobuf {first.wire_bytes['otlp']:,.0f} bytes, native JSON"
        f" {first.wire_bytes['native']:,.0f} bytes a trace. Stored over wire: "
        + ", ".join(
            f"{s.shape} {s.per_trace / s.wire_bytes[s.shape]:.2f}x its own encoding"
            for s in result.shapes
        )
        + ".",
        "",
        "Where a span's bytes go (mean `pg_column_size` per span, as stored: compressed,"
        " TOASTed values at their compressed size; the row header, alignment and page"
        " overhead come on top): "
        + "; ".join(
            f"{s.shape}: "
            + ", ".join(f"{name} {size:,.0f}" for name, size in list(s.span_columns.items())[:6])
            + f", the other {len(s.span_columns) - 6} columns"
            f" {sum(list(s.span_columns.values())[6:]):,.0f} bytes"
            for s in result.shapes
        )
        + ".",
        "",
        before_and_after(result),
        "",
        "Indexes, MiB: "
        + "; ".join(
            f"{s.shape} spans: {_indexes(s.tables['spans'])}; {s.shape} traces:"
            f" {_indexes(s.tables['traces'])}"
            for s in result.shapes
        )
        + ".",
        "",
        "```bash",
        command,
        "```",
    ]
    return "\n".join(lines)


def _change(shaped: ShapeResult) -> str:
    before = BEFORE_BYTES_PER_TRACE[shaped.shape]
    return (
        f"{shaped.shape} {before:,} -> {shaped.per_trace:,.0f} bytes a trace"
        f" ({(shaped.per_trace - before) / before:+.1%}; {before * TARGET_TRACES / 1e9:.1f}"
        f" -> {shaped.target_extrapolation / 1e9:.1f} GB per 1M traces)"
    )


def before_and_after(result: Result) -> str:
    """What was changed, tried and left, with the figures measured for each."""
    return "\n".join(
        [
            f"**Before and after.** Before = commit {BEFORE_COMMIT} (1M spans a shape), when"
            " OTLP ingest kept every OpenInference attribute in `attributes` as well as in"
            " the column it maps to (the prompt and completion stored twice: `attributes`"
            " was 1,099 bytes of an otlp span). After, this run: "
            + "; ".join(_change(s) for s in result.shapes)
            + ".",
            "",
            "- *Done: each attribute once.* Ingest no longer keeps in `attributes` an"
            " attribute whose value a column holds unchanged (ingest/conventions.py); the"
            " API's `attributes` are what no column holds (docs/graphql.md). Spans stored"
            " before keep both. native spans never had the duplicates.",
            "- *Tried, not shipped: PostgreSQL compression.* PostgreSQL compresses a row"
            " only once it is over about 2 KB (TOAST_TUPLE_THRESHOLD, fixed at build time;"
            " `toast_tuple_target` only sets how far such a row is shrunk). Once the"
            " duplicates were gone, a native LLM span is about 1.9 KB and an otlp one, with"
            " its resource, just over: `toast_tuple_target = 128` with storage `MAIN` saved"
            " 0.4% of the otlp spans table (1,808 against 1,816 bytes a span, 100K spans)"
            " and nothing on native. On LLM spans with 4x the prompt (3.7 KB) they made"
            " things worse: target"
            " 128 +7% (3,715 against 3,465 bytes a span), 512 +1%, `MAIN` with 128 +18%"
            " (rows of 2-4 KB waste the rest of their 8 KB page). `COMPRESSION lz4` is not"
            " in the embedded PostgreSQL build (pglz only), and would buy speed, not size.",
            "- *Not done: the resource once per trace* (194 bytes of every otlp span before,"
            " about 2 KB a trace). The spans of one trace may come from several services,"
            " each with its own resource, so one copy per trace would be wrong; one copy per"
            " distinct resource (a `resources` table keyed by a hash, `spans.resource_id`)"
            " would be right but needs the storage worker to upsert it and every span reader"
            " to join it.",
            "- *Kept: the indexes* (about 320 bytes a span, a fifth of a native span)."
            " `ix_spans_project_start` is what analytics read instead of the rows (an"
            " index-only scan: 2.5 s -> 0.9 s on 24 h of 1M spans); `spans_pkey` is the"
            " upsert's key; `ix_spans_project_kind` is used only by span lists filtered by"
            " a kind, and for a rare kind (50 spans in 100,000) it is the difference between"
            " an index scan and a 76 ms sequential scan of the table (EXPLAIN ANALYZE, 100K"
            " spans; ten times that at 1M). The trace list reads `traces`, whose indexes"
            " are about 1% of the total.",
            "- *What would move it next:* compressing `input` and `output` in the storage"
            " worker before they reach PostgreSQL, since rows stay under the 2 KB trigger"
            " (zlib level 6 on this workload: 698 -> 419 bytes a span, about 2.8 GB less per"
            " 1M traces; zstd with a trained dictionary 229, but a dictionary trained on a"
            " synthetic vocabulary flatters it). That changes the columns' type, so the"
            " upsert's merge and every reader of them; then the resource as above.",
        ]
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.storage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (any database on it): the shapes' databases are created"
        " beside it, or reused (default: start a throwaway PostgreSQL)",
    )
    parser.add_argument("--spans", type=int, default=DEFAULTS.spans, help="spans a shape")
    parser.add_argument("--shapes", default=",".join(DEFAULTS.shapes), help="otlp,native")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return parser


def options_of(args: argparse.Namespace) -> Options:
    shapes = tuple(s.strip() for s in str(args.shapes).split(",") if s.strip())
    if not shapes or any(s not in SHAPES for s in shapes):
        raise SystemExit("error: --shapes takes otlp and/or native")
    if args.spans < 1:
        raise SystemExit("error: --spans must be at least 1")
    return Options(spans=args.spans, shapes=tuple(s for s in SHAPES if s in shapes))


async def _main(args: argparse.Namespace, server_url: str, started_here: bool) -> None:
    options = options_of(args)
    result = await run(server_url, options)
    table = rows(result)
    print(markdown_table(table))
    if not args.no_write:
        path = write_section(
            SECTION,
            table,
            notes(result, command_line(args), started_here),
            versions={"PostgreSQL": result.server.get("server_version"), "Kafka": None},
        )
        print(f"wrote the {SECTION!r} section of {path.relative_to(ROOT)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    options_of(args)  # validate before starting anything
    if args.database_url:
        asyncio.run(_main(args, args.database_url, started_here=False))
        return
    from devservices import DevServices

    with DevServices(kafka=False, redis=False) as services:
        asyncio.run(_main(args, services.database_url, started_here=True))


if __name__ == "__main__":
    main()
