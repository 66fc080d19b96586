"""The rollups benchmark: week-long analytics from per-minute rollups, beside the raw rows.

    python -m bench.rollups                      # own throwaway PostgreSQL, 1,000,000 spans
    python -m bench.rollups --database-url URL   # on that server; reuses a database it seeded
    python -m bench.rollups --spans 20000 --rounds 2 --no-write   # smoke run, seconds

Seeds ``--spans`` spans (10-span traces over the 7 days before 2026-01-01, bench/seed.py:
the storage worker's own ``store_spans``) into a database of its own,
``bench_rollups_<spans>``, reused when it already holds them; then ``VACUUM ANALYZE``.

Then, each timed on its own:

- **backfill**: ``storage.rollups.backfill_project``, what the analytics worker does the
  first time it meets a project (every minute recomputed from the raw rows);
- **replay**: every trace's ``trace.updated`` event on the embedded bus, consumed by a
  real ``AnalyticsWorker`` in batches of ``--batch`` events (mark the minutes, commit,
  recompute the settled dirty minutes): how fast the worker catches up on a backlog;
- **queries**: the analytics of the whole week through ``resolvers.analytics`` (the
  functions GraphQL and REST call): the hourly series, the totals, and the MODEL and KIND
  groups, ``--rounds`` times each, the raw rows and the rollups interleaved (the project is
  marked complete or not between runs, which is all that switches the path). The figure
  is each query's p50 from the raw rows over its p50 from the rollups. Every rollup answer
  is checked against the raw one: counts and sums equal (cost to 1e-9), percentiles within
  ``storage.rollups.RELATIVE_ERROR``.

Prints the table and rewrites the "Analytics rollups: long ranges" section of
docs/benchmarks.md (``--no-write`` to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.report import markdown_table, write_section
from bench.seed import project_id_for, seed
from bench.storage import ensure_database, server_settings, sibling_url
from bench.workload import Workload
from messaging import span_batch, topics
from messaging.bus import OutgoingMessage
from messaging.embedded_bus import EmbeddedBus
from resolvers import analytics
from resolvers.analytics import Bucket, Group, GroupBy, Measures, Percentiles, Scope, TimeBucket
from resolvers.filters import TimeRange
from storage.migrate import upgrade_async
from storage.otel_ids import trace_id_to_hex
from storage.rollups import RELATIVE_ERROR, backfill_project
from workers.analytics_worker import AnalyticsWorker
from workers.trace_events import TRACE_UPDATED

SECTION = "Analytics rollups: long ranges"
ROOT = Path(__file__).resolve().parent.parent
PROJECT = "bench-rollups"
WORKLOAD = Workload(seed=0)
"""Default 10-span traces over the 7 days before 2026-01-01 (a fixed ``now``)."""
WEEK = TimeRange(datetime(2025, 12, 24, tzinfo=UTC), datetime(2026, 1, 1, 1, tzinfo=UTC))
"""The whole seeded window, in whole minutes (an hour past its end for the longest traces)."""
Query = Callable[[AsyncEngine, Scope], Awaitable[Any]]


async def _series(engine: AsyncEngine, scope: Scope) -> list[Bucket]:
    return await analytics.time_series(engine, scope, TimeBucket.HOUR)


async def _totals(engine: AsyncEngine, scope: Scope) -> Measures:
    return await analytics.totals(engine, scope)


async def _by_model(engine: AsyncEngine, scope: Scope) -> list[Group]:
    return await analytics.groups(engine, scope, GroupBy.MODEL, 100)


async def _by_kind(engine: AsyncEngine, scope: Scope) -> list[Group]:
    return await analytics.groups(engine, scope, GroupBy.KIND, 100)


QUERIES: dict[str, Query] = {
    "hourly series (193 buckets)": _series,
    "totals": _totals,
    "groups by MODEL": _by_model,
    "groups by KIND": _by_kind,
}


@dataclass(frozen=True, slots=True)
class Options:
    spans: int = 1_000_000
    rounds: int = 5
    batch: int = 2_000


DEFAULTS = Options()


@dataclass
class QueryTimes:
    raw_ms: list[float] = field(default_factory=list)
    rollup_ms: list[float] = field(default_factory=list)
    matched: bool = True


@dataclass
class Result:
    spans: int
    traces: int
    database: str
    seeded_s: float | None
    backfill_s: float
    replay_s: float
    replay_events: int
    rollup_rows: dict[str, int]
    sizes: dict[str, int]
    queries: dict[str, QueryTimes]
    server: dict[str, str]


def database_name(spans: int) -> str:
    return f"bench_rollups_{spans}"


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


async def _count(engine: AsyncEngine, sql: str, project: uuid.UUID) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(sql), {"p": project}) or 0)


async def _set_complete(engine: AsyncEngine, project: uuid.UUID, complete: bool) -> None:
    """Whether analytics may read the project's rollups: the one switch between paths."""
    async with engine.begin() as conn:
        if complete:
            await conn.execute(
                text(
                    "INSERT INTO rollup_projects (project_id) VALUES (:p)"
                    " ON CONFLICT (project_id) DO UPDATE SET marked_through = now()"
                ),
                {"p": project},
            )
        else:
            await conn.execute(
                text("DELETE FROM rollup_projects WHERE project_id = :p"), {"p": project}
            )


async def _forget_rollups(engine: AsyncEngine, project: uuid.UUID) -> None:
    async with engine.begin() as conn:
        for table in (
            "span_rollups",
            "trace_rollups",
            "rollup_trace_minutes",
            "rollup_dirty_minutes",
            "rollup_projects",
        ):
            await conn.execute(text(f"DELETE FROM {table} WHERE project_id = :p"), {"p": project})


async def _replay(engine: AsyncEngine, project: uuid.UUID, batch: int) -> tuple[float, int]:
    """Every trace's ``trace.updated`` event, consumed by a real analytics worker; the
    seconds from the first fetch to the last recompute, and the events."""
    bus = EmbeddedBus(engine)
    await bus.start()
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT trace_id, updated_at FROM traces WHERE project_id = :p"),
                {"p": project},
            )
            events = [
                OutgoingMessage(
                    topic=topics.TRACE_EVENTS,
                    key=span_batch.message_key(project, trace_id_to_hex(r.trace_id)),
                    # The fields the worker reads; the storage worker's events carry more.
                    value=orjson.dumps(
                        {
                            "type": TRACE_UPDATED,
                            "project_id": str(project),
                            "trace_id": trace_id_to_hex(r.trace_id),
                            "updated_at": r.updated_at.isoformat(),
                        }
                    ),
                )
                for r in rows
            ]
        for at in range(0, len(events), 5_000):
            await bus.publish(events[at : at + 5_000])
        group = f"bench-rollups-{uuid.uuid4().hex[:8]}"
        consumer = bus.consumer(topics.TRACE_EVENTS, group)
        await consumer.start()
        worker = AnalyticsWorker(
            engine=engine, bus=bus, consumer=consumer, flush_interval_s=1, batch_max_messages=batch
        )
        started = time.perf_counter()
        while messages := await consumer.fetch(batch, 0):
            await worker.process(messages)
        return time.perf_counter() - started, len(events)
    finally:
        await bus.stop()


_SIZED = (
    "spans",
    "traces",
    "span_rollups",
    "trace_rollups",
    "span_rollups_hourly",
    "trace_rollups_hourly",
    "rollup_trace_minutes",
)


async def _vacuum(engine: AsyncEngine, tables: tuple[str, ...]) -> None:
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            await autocommit.execute(text(f"VACUUM (ANALYZE) {table}"))


async def _sizes(engine: AsyncEngine) -> dict[str, int]:
    """pg_total_relation_size of each table (the bench's database holds one project)."""
    async with engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class"
                " WHERE relname = ANY(:names) AND relkind = 'r'"
            ),
            {"names": list(_SIZED)},
        )
        return {str(name): int(size) for name, size in found}


def _close(a: float | None, b: float | None, relative: float) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= relative * abs(b) + 1e-9


def _percentiles_match(got: Percentiles, exact: Percentiles) -> bool:
    return all(
        _close(getattr(got, p), getattr(exact, p), RELATIVE_ERROR) for p in ("p50", "p95", "p99")
    )


def _measures_match(got: Measures, exact: Measures) -> bool:
    counts = (
        "trace_count",
        "error_trace_count",
        "span_count",
        "error_span_count",
        "input_tokens",
        "output_tokens",
        "total_tokens",
    )
    return (
        all(getattr(got, c) == getattr(exact, c) for c in counts)
        and math.isclose(got.cost, exact.cost, rel_tol=1e-9, abs_tol=1e-9)
        and _percentiles_match(got.trace_latency, exact.trace_latency)
    )


def _group_matches(got: Group, exact: Group) -> bool:
    return (
        (got.key, got.span_count, got.error_count)
        == (exact.key, exact.span_count, exact.error_count)
        and (got.input_tokens, got.output_tokens, got.total_tokens)
        == (exact.input_tokens, exact.output_tokens, exact.total_tokens)
        and math.isclose(got.cost, exact.cost, rel_tol=1e-9, abs_tol=1e-9)
        and _percentiles_match(got.latency, exact.latency)
    )


def answers_match(got: Any, exact: Any) -> bool:
    """A rollup answer against the raw one: counts and sums equal, percentiles within
    the histograms' stated error."""
    if isinstance(exact, Measures):
        return isinstance(got, Measures) and _measures_match(got, exact)
    if not isinstance(got, list) or len(got) != len(exact):
        return False
    for g, e in zip(got, exact, strict=True):
        if isinstance(e, Bucket):
            if not (
                isinstance(g, Bucket)
                and (g.start, g.end) == (e.start, e.end)
                and _measures_match(g.measures, e.measures)
            ):
                return False
        elif not (isinstance(g, Group) and _group_matches(g, e)):
            return False
    return True


async def _timed(query: Query, engine: AsyncEngine, scope: Scope) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = await query(engine, scope)
    return (time.perf_counter() - started) * 1000, answer


async def run(server_url: str, options: Options, *, progress: bool = True) -> Result:
    database = database_name(options.spans)
    await ensure_database(server_url, database)
    url = sibling_url(server_url, database)
    await upgrade_async(url)
    engine = create_async_engine(url, pool_size=2)
    try:
        project, _ = await project_id_for(engine, PROJECT)
        stored = await _count(engine, "SELECT count(*) FROM spans WHERE project_id = :p", project)
        seeded_s: float | None = None
        if stored != options.spans:
            _say(progress, f"seeding {options.spans:,} spans into {database}")
            started = time.perf_counter()
            await seed(
                engine,
                project,
                options.spans,
                workload=WORKLOAD,
                progress=sys.stderr if progress else None,
            )
            seeded_s = time.perf_counter() - started
        await _vacuum(engine, ("spans", "traces"))
        traces = await _count(engine, "SELECT count(*) FROM traces WHERE project_id = :p", project)

        _say(progress, "backfilling the rollups")
        await _forget_rollups(engine, project)
        started = time.perf_counter()
        await backfill_project(engine, project)
        backfill_s = time.perf_counter() - started
        await _vacuum(engine, ("span_rollups", "trace_rollups", "span_rollups_hourly"))
        # Sizes of freshly written rows: the replay below rewrites every minute many times
        # over, which leaves dead rows that VACUUM makes reusable but does not return.
        sizes = await _sizes(engine)

        _say(progress, f"replaying {traces:,} trace events through the analytics worker")
        replay_s, replay_events = await _replay(engine, project, options.batch)
        await _vacuum(engine, ("span_rollups", "trace_rollups", "span_rollups_hourly"))
        rollup_rows = {
            table: await _count(
                engine, f"SELECT count(*) FROM {table} WHERE project_id = :p", project
            )
            for table in ("span_rollups", "trace_rollups", "span_rollups_hourly")
        }
        scope = Scope.of(project, WEEK)
        times = {name: QueryTimes() for name in QUERIES}
        for round_ in range(options.rounds):
            _say(progress, f"queries, round {round_ + 1} of {options.rounds}")
            for name, query in QUERIES.items():
                await _set_complete(engine, project, False)
                raw_ms, exact = await _timed(query, engine, scope)
                await _set_complete(engine, project, True)
                rollup_ms, got = await _timed(query, engine, scope)
                times[name].raw_ms.append(raw_ms)
                times[name].rollup_ms.append(rollup_ms)
                times[name].matched = times[name].matched and answers_match(got, exact)
        return Result(
            spans=options.spans,
            traces=traces,
            database=database,
            seeded_s=seeded_s,
            backfill_s=backfill_s,
            replay_s=replay_s,
            replay_events=replay_events,
            rollup_rows=rollup_rows,
            sizes=sizes,
            queries=times,
            server=await server_settings(url),
        )
    finally:
        await engine.dispose()


def rows(result: Result) -> list[dict[str, Any]]:
    table = []
    for name, t in result.queries.items():
        raw, rolled = statistics.median(t.raw_ms), statistics.median(t.rollup_ms)
        table.append(
            {
                "query (7 days)": name,
                "spans": result.spans,
                "raw p50 ms": round(raw, 1),
                "rollups p50 ms": round(rolled, 1),
                "raw max ms": round(max(t.raw_ms), 1),
                "rollups max ms": round(max(t.rollup_ms), 1),
                "speed-up (raw / rollups)": round(raw / rolled, 1),
                "matches raw": "yes" if t.matched else "NO",
            }
        )
    return table


def _mib(value: int) -> str:
    return f"{value / 2**20:,.1f} MiB"


def notes(result: Result, command: str, started_here: bool) -> str:
    where = (
        f"a devservices PostgreSQL {result.server.get('server_version')} started by the bench"
        if started_here
        else f"the PostgreSQL {result.server.get('server_version')} at --database-url"
    )
    seeded = (
        f"seeded in {result.seeded_s:.0f} s"
        if result.seeded_s is not None
        else "reused, seeded by an earlier run"
    )
    rollup_bytes = sum(
        result.sizes.get(t, 0)
        for t in ("span_rollups", "trace_rollups", "span_rollups_hourly", "trace_rollups_hourly")
    )
    raw_bytes = sum(result.sizes.get(t, 0) for t in ("spans", "traces"))
    hourly = result.rollup_rows.get("span_rollups_hourly", 0)
    return (
        f"`{command}`, on {where}. {result.spans:,} spans in {result.traces:,} traces of 10"
        f" spans over the 7 days before 2026-01-01 (database `{result.database}`, {seeded}),"
        " then `VACUUM ANALYZE`.\n\n"
        "**Method.** Each query is the analytics of the whole week through"
        " `resolvers.analytics`, the functions GraphQL and REST call, on one connection pool;"
        f" {len(next(iter(result.queries.values())).raw_ms)} rounds, and in each round every"
        " query once from the raw rows and once from the rollups, back to back (the project"
        " marked incomplete, then complete: the only switch between the two paths). Times"
        " are wall-clock around the call (statements, transfer, decoding). **speed-up** ="
        " raw p50 over rollups p50. **matches raw**: every rollup answer of every round had"
        " the raw answer's counts, errors and token sums exactly, its cost to 1e-9, and"
        f" its p50/p95/p99 within {RELATIVE_ERROR:.2%} (the latency buckets' stated error).\n\n"
        f"**Building them.** Backfill (every minute of the project recomputed from the raw"
        f" rows, as the worker does the first time it meets a project): {result.backfill_s:.1f}"
        f" s, {result.spans / result.backfill_s:,.0f} spans/s. Replay of every trace's"
        f" `trace.updated` event ({result.replay_events:,}) through a real `AnalyticsWorker`"
        " on the embedded bus (mark the touched minutes, commit, recompute the settled dirty"
        f" minutes): {result.replay_s:.1f} s, {result.replay_events / result.replay_s:,.0f}"
        " events/s, the rate at which a worker catches up on a backlog (a worst case: these"
        " traces are spread over the week, so each batch dirties about as many minutes as"
        " it has events; live traffic dirties the last few minutes). Rows:"
        f" {result.rollup_rows.get('span_rollups', 0):,} in `span_rollups`,"
        f" {result.rollup_rows.get('trace_rollups', 0):,} in `trace_rollups`,"
        f" {result.rollup_rows.get('span_rollups_hourly', 0):,} in `span_rollups_hourly`;"
        f" minute and hourly rollups {_mib(rollup_bytes)} right after the backfill, beside"
        f" {_mib(raw_bytes)} of `spans` and `traces`"
        f" (`rollup_trace_minutes`, the worker's record of each trace's minutes:"
        f" {_mib(result.sizes.get('rollup_trace_minutes', 0))}). A week from the rollups"
        f" reads about {hourly:,} hourly rows ({result.spans / max(hourly, 1):,.0f} spans"
        " each) whatever the number of spans, where the raw path reads every span: the"
        " speed-up grows with the spans per hour."
    )


def command_line(args: argparse.Namespace) -> str:
    parts = ["python -m bench.rollups"]
    if args.spans != DEFAULTS.spans:
        parts.append(f"--spans {args.spans}")
    if args.rounds != DEFAULTS.rounds:
        parts.append(f"--rounds {args.rounds}")
    if args.database_url:
        parts.append("--database-url URL")
    return " ".join(parts)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.rollups",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (any database on it): the bench's database is created"
        " beside it, or reused (default: start a throwaway PostgreSQL)",
    )
    parser.add_argument("--spans", type=int, default=DEFAULTS.spans)
    parser.add_argument("--rounds", type=int, default=DEFAULTS.rounds)
    parser.add_argument(
        "--batch", type=int, default=DEFAULTS.batch, help="trace events per worker batch"
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return parser


def options_of(args: argparse.Namespace) -> Options:
    if args.spans < 10 or args.rounds < 1 or args.batch < 1:
        raise SystemExit("error: --spans must be at least 10, --rounds and --batch at least 1")
    return Options(spans=args.spans, rounds=args.rounds, batch=args.batch)


async def _main(args: argparse.Namespace, server_url: str, started_here: bool) -> None:
    result = await run(server_url, options_of(args))
    table = rows(result)
    print(markdown_table(table))
    text_notes = notes(result, command_line(args), started_here)
    print(text_notes)
    if not args.no_write:
        path = write_section(
            SECTION,
            table,
            text_notes,
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
