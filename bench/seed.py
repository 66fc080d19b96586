"""Seeds a project with generated traces, fast, for the query benchmarks.

    python -m bench.seed --database-url URL --project NAME --spans 1000000

Writes through the storage worker's real path, ``workers.span_store.store_spans`` (the
batched upsert of the spans, then ``RECOMPUTE_TRACES`` of the traces they touched), one
transaction per batch of whole traces (10,000 spans by default). The same arguments
(``--now`` included) twice change nothing, as the upsert is idempotent; anything else,
such as the default ``--now`` of a later run, adds other traces. Rows are generated in a second thread while the previous batch is written;
progress (spans/s) goes to stderr.

On 2 cores this writes 1,000,000 spans in under two minutes, so there is no COPY path: a
COPY of the same rows followed by the same recompute was only 5% faster at 1M spans (25%
at 100K), since generating the rows in Python, not PostgreSQL, is the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.workload import GeneratedTrace, Shape, Workload, span_rows
from storage.database import to_async_url
from storage.migrate import upgrade_async
from storage.projects import create_project
from workers.span_rows import SpanRow
from workers.span_store import store_spans

DEFAULT_BATCH_SPANS = 10_000


@dataclass(frozen=True, slots=True)
class SeedResult:
    project_id: uuid.UUID
    spans: int
    traces: int
    seconds: float

    @property
    def spans_per_second(self) -> float:
        return self.spans / self.seconds if self.seconds > 0 else float("inf")


def _batches(
    workload: Workload, total_spans: int, batch_spans: int
) -> Iterator[list[GeneratedTrace]]:
    """Whole traces, about ``batch_spans`` spans at a time (at least one trace)."""
    batch: list[GeneratedTrace] = []
    size = 0
    for trace in workload.traces_for_spans(total_spans):
        batch.append(trace)
        size += len(trace.spans)
        if size >= batch_spans:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _report(out: TextIO | None, done: int, total: int, started: float, final: bool) -> None:
    if out is None:
        return
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    end = "\n" if final else ""
    print(
        f"\rseeded {done:,}/{total:,} spans in {elapsed:.1f} s ({rate:,.0f} spans/s)",
        end=end,
        file=out,
        flush=True,
    )


async def seed(
    engine: AsyncEngine,
    project_id: uuid.UUID,
    spans: int,
    *,
    workload: Workload | None = None,
    batch_spans: int = DEFAULT_BATCH_SPANS,
    shape: Shape = "otlp",
    progress: TextIO | None = sys.stderr,
) -> SeedResult:
    """Writes ``spans`` generated spans (``workload``, default ``Workload()``) into
    ``project_id``, one transaction per batch of whole traces of about ``batch_spans``."""
    workload = workload or Workload()
    batches = _batches(workload, spans, batch_spans)

    def next_rows() -> list[SpanRow] | None:
        batch = next(batches, None)
        return None if batch is None else span_rows(project_id, batch, shape)

    started = time.perf_counter()
    done = 0
    pending = asyncio.create_task(asyncio.to_thread(next_rows))
    try:
        while (rows := await pending) is not None:
            pending = asyncio.create_task(asyncio.to_thread(next_rows))
            async with engine.begin() as conn:
                await store_spans(conn, rows)
            done += len(rows)
            _report(progress, done, spans, started, final=False)
    finally:
        if not pending.done():
            # A failed write: let the generating thread finish its batch before leaving.
            with contextlib.suppress(Exception):
                await pending
    _report(progress, done, spans, started, final=True)
    elapsed = time.perf_counter() - started
    return SeedResult(project_id, done, workload.trace_count(spans), elapsed)


async def project_id_for(engine: AsyncEngine, name: str) -> tuple[uuid.UUID, str | None]:
    """The project named ``name``, created (with an API key, returned once) if missing."""
    async with engine.connect() as conn:
        existing = await conn.scalar(text("SELECT id FROM projects WHERE name = :n"), {"n": name})
    if isinstance(existing, uuid.UUID):
        return existing, None
    project = await create_project(engine, name)
    return project.id, project.api_key


async def table_sizes(engine: AsyncEngine) -> dict[str, int]:
    """``pg_total_relation_size`` (heap, TOAST and indexes) of spans and traces, in bytes."""
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class"
                " WHERE relname IN ('spans', 'traces') AND relkind = 'r'"
            )
        )
        return {str(name): int(size) for name, size in result}


def _parse_now(value: str) -> int:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__)
    parser.add_argument("--database-url", required=True, help="postgresql:// or +asyncpg URL")
    parser.add_argument("--project", required=True, help="project name (created if missing)")
    parser.add_argument("--spans", type=int, required=True, help="how many spans to write")
    parser.add_argument("--seed", type=int, default=0, help="workload seed (default 0)")
    parser.add_argument("--spans-per-trace", type=int, default=10)
    parser.add_argument("--batch-spans", type=int, default=DEFAULT_BATCH_SPANS)
    parser.add_argument(
        "--shape",
        choices=["otlp", "native"],
        default="otlp",
        help="rows as OTLP ingest stores them (with the resource, attributes no column holds)"
        " or as native ingest does",
    )
    parser.add_argument(
        "--window-hours", type=float, default=24 * 7, help="start times spread over this"
    )
    parser.add_argument(
        "--now",
        help="end of the window, ISO 8601 (default: now, to the second)",
    )
    parser.add_argument("--no-migrate", action="store_true", help="skip the migrations")
    return parser


async def _main(args: argparse.Namespace) -> None:
    url = to_async_url(args.database_url)
    if not args.no_migrate:
        await upgrade_async(url)
    now_ns = _parse_now(args.now) if args.now else int(time.time()) * 1_000_000_000
    workload = Workload(
        seed=args.seed,
        spans_per_trace=args.spans_per_trace,
        now_ns=now_ns,
        window_s=args.window_hours * 3600,
    )
    engine = create_async_engine(url, pool_size=1)
    try:
        project_id, api_key = await project_id_for(engine, args.project)
        if api_key is not None:
            print(f"created project {args.project!r} ({project_id})")
            print(f"API key (shown once): {api_key}")
        else:
            print(f"project {args.project!r} ({project_id}) exists; seeding into it")
        result = await seed(
            engine,
            project_id,
            args.spans,
            workload=workload,
            batch_spans=args.batch_spans,
            shape=args.shape,
        )
        sizes = await table_sizes(engine)
    finally:
        await engine.dispose()
    print(
        f"seeded {result.spans:,} spans in {result.traces:,} traces"
        f" in {result.seconds:.1f} s ({result.spans_per_second:,.0f} spans/s)"
    )
    for table, size in sorted(sizes.items()):
        print(f"{table}: {size / 2**20:,.0f} MiB (pg_total_relation_size)")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.spans < 0 or args.batch_spans < 1 or args.spans_per_trace < 1:
        sys.exit("error: --spans must be >= 0, --batch-spans and --spans-per-trace >= 1")
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
