"""Per-minute analytics rollups on real PostgreSQL and the embedded bus: the analytics
worker consumes ``trace-events``, and analytics over long ranges read its rollups with
the same answers as the raw rows (counts and sums exactly, percentiles within the latency
histograms' stated error)."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.seed import seed
from bench.workload import Workload
from cache.store import MemoryCache
from devservices import DevServices
from messaging import span_batch, topics
from messaging.bus import OutgoingMessage, ReceivedMessage
from messaging.embedded_bus import EmbeddedBus
from messaging.live_events import LiveEvents
from resolvers import analytics
from resolvers.analytics import Bucket, Group, GroupBy, Measures, Percentiles, Scope, TimeBucket
from resolvers.filters import Conditions, TimeRange
from storage.database import create_engine
from storage.otel_ids import trace_id_from_hex, trace_id_to_hex
from storage.projects import create_project
from storage.rollups import (
    RELATIVE_ERROR,
    SETTLE,
    bucket_value,
    forget_traces,
    histogram_percentiles,
    latency_bucket,
)
from tests.databases import fresh_database
from workers.analytics_worker import ROLLUPS_UPDATED, AnalyticsWorker
from workers.span_store import StoredTrace
from workers.storage_worker import StorageWorker
from workers.trace_events import trace_event

NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)
WINDOW = timedelta(days=3)
SPANS = 4_000
# Seeded spans start in [NOW - WINDOW - a trace's length, NOW]: a range with a margin.
RANGE = (NOW - WINDOW - timedelta(hours=1), NOW + timedelta(hours=1))


@pytest.fixture(scope="module")
async def engine(services: DevServices) -> AsyncIterator[AsyncEngine]:
    """A database of its own: the embedded bus's topics are per database."""
    engine = create_engine(await fresh_database(services, "rollups"), pool_size=4)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def bus(engine: AsyncEngine) -> AsyncIterator[EmbeddedBus]:
    bus = EmbeddedBus(engine)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


_TRACE_COLUMNS = """project_id, trace_id, name, status, start_time, end_time, duration_ms,
    root_span_id, span_count, error_count, input_tokens, output_tokens, total_tokens, cost,
    user_id, session_id, environment, tags, metadata, created_at, updated_at"""


async def _publish_trace_events(engine: AsyncEngine, bus: EmbeddedBus, project: uuid.UUID) -> None:
    """The storage worker's ``trace-events`` for every stored trace of ``project``."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(f"SELECT {_TRACE_COLUMNS} FROM traces WHERE project_id = :p"), {"p": project}
        )
        stored = [StoredTrace(**row) for row in rows.mappings()]
    await bus.publish(
        [
            OutgoingMessage(
                topic=topics.TRACE_EVENTS,
                key=span_batch.message_key(t.project_id, trace_id_to_hex(t.trace_id)),
                value=orjson.dumps(trace_event(t)),
            )
            for t in stored
        ]
    )


def _worker(
    engine: AsyncEngine, bus: EmbeddedBus, group: str, settle: timedelta = SETTLE
) -> AnalyticsWorker:
    return AnalyticsWorker(
        engine=engine,
        bus=bus,
        consumer=bus.consumer(topics.TRACE_EVENTS, group),
        flush_interval_s=0.2,
        batch_max_messages=10_000,
        settle=settle,
    )


async def _fetch_all(bus: EmbeddedBus, topic: str, group: str) -> list[ReceivedMessage]:
    consumer = bus.consumer(topic, group)
    await consumer.start()
    found: list[ReceivedMessage] = []
    while batch := await consumer.fetch(10_000, 0):
        found += batch
    return found


async def _roll_up(
    engine: AsyncEngine, bus: EmbeddedBus, group: str, settle: timedelta = SETTLE
) -> list[ReceivedMessage]:
    """Runs an analytics worker over everything on ``trace-events`` in one batch."""
    worker = _worker(engine, bus, group, settle)
    messages = await _fetch_all(bus, topics.TRACE_EVENTS, group)
    await worker.process(messages)
    return messages


@pytest.fixture(scope="module")
async def seeded(engine: AsyncEngine) -> uuid.UUID:
    project = await create_project(engine, f"rollups-{uuid.uuid4().hex[:8]}")
    workload = Workload(
        seed=7, now_ns=int(NOW.timestamp()) * 10**9, window_s=WINDOW.total_seconds()
    )
    await seed(engine, project.id, SPANS, workload=workload, batch_spans=1_000, progress=None)
    return project.id


@contextmanager
def statement_log(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def log(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", log)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", log)


Answers = tuple[list[Bucket], Measures, list[Group], list[Group]]


async def _answers(engine: AsyncEngine, scope: Scope) -> Answers:
    return (
        await analytics.time_series(engine, scope, TimeBucket.HOUR),
        await analytics.totals(engine, scope),
        await analytics.groups(engine, scope, GroupBy.MODEL, 100),
        await analytics.groups(engine, scope, GroupBy.KIND, 100),
    )


def _assert_percentiles_close(got: Percentiles, exact: Percentiles, where: str) -> None:
    for name in ("p50", "p95", "p99"):
        g, e = getattr(got, name), getattr(exact, name)
        if e is None:
            assert g is None, where
            continue
        assert g is not None, where
        assert abs(g - e) <= RELATIVE_ERROR * abs(e) + 1e-9, (where, name, g, e)


def _assert_measures_match(got: Measures, exact: Measures, where: str) -> None:
    for name in (
        "trace_count",
        "error_trace_count",
        "span_count",
        "error_span_count",
        "input_tokens",
        "output_tokens",
        "total_tokens",
    ):
        assert getattr(got, name) == getattr(exact, name), (where, name)
    assert math.isclose(got.cost, exact.cost, rel_tol=1e-9, abs_tol=1e-9), where
    _assert_percentiles_close(got.trace_latency, exact.trace_latency, where)


def _assert_groups_match(got: list[Group], exact: list[Group], where: str) -> None:
    assert [g.key for g in got] == [g.key for g in exact], where
    for g, e in zip(got, exact, strict=True):
        at = f"{where}[{e.key}]"
        assert (g.span_count, g.error_count) == (e.span_count, e.error_count), at
        assert (g.input_tokens, g.output_tokens, g.total_tokens) == (
            e.input_tokens,
            e.output_tokens,
            e.total_tokens,
        ), at
        assert math.isclose(g.cost, e.cost, rel_tol=1e-9, abs_tol=1e-9), at
        _assert_percentiles_close(g.latency, e.latency, at)


def _assert_answers_match(got: Answers, exact: Answers) -> None:
    series, totals, by_model, by_kind = got
    assert [(b.start, b.end) for b in series] == [(b.start, b.end) for b in exact[0]]
    for b, e in zip(series, exact[0], strict=True):
        _assert_measures_match(b.measures, e.measures, f"bucket {e.start}")
    _assert_measures_match(totals, exact[1], "totals")
    _assert_groups_match(by_model, exact[2], "MODEL")
    _assert_groups_match(by_kind, exact[3], "KIND")


def _reads_rollups(statements: list[str]) -> bool:
    return any("FROM span_rollups" in s for s in statements) and any(
        "FROM trace_rollups" in s for s in statements
    )


async def _table(engine: AsyncEngine, table: str, project: uuid.UUID) -> list[Any]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(f"SELECT * FROM {table} WHERE project_id = :p ORDER BY 1, 2, 3, 4, 5"),
            {"p": project},
        )
        return [tuple(r) for r in rows]


async def test_rollups_match_the_raw_answers_and_long_ranges_read_them(
    engine: AsyncEngine, bus: EmbeddedBus, seeded: uuid.UUID
) -> None:
    # Whole minutes, and a range cutting minutes at both ends (read from the raw rows).
    scopes = [
        Scope.of(seeded, TimeRange(*RANGE)),
        Scope.of(
            seeded,
            TimeRange(RANGE[0] + timedelta(seconds=17), NOW - timedelta(hours=7, seconds=31)),
        ),
    ]
    # Seven hours in minute buckets: minute rollups only (an hour's row cannot be cut).
    by_minute = Scope.of(seeded, TimeRange(NOW - timedelta(hours=8), NOW - timedelta(hours=1)))
    # Before the worker has met the project its rollups are incomplete: the raw rows.
    with statement_log(engine) as statements:
        exact = [await _answers(engine, s) for s in scopes]
        exact_minutes = await analytics.time_series(engine, by_minute, TimeBucket.MINUTE)
    assert not any("span_rollups" in s for s in statements if "rollup_projects" not in s)
    assert exact[0][1].span_count == SPANS

    await _publish_trace_events(engine, bus, seeded)
    await _roll_up(engine, bus, "rollups-match")

    for scope, expected in zip(scopes, exact, strict=True):
        with statement_log(engine) as statements:
            got = await _answers(engine, scope)
        assert _reads_rollups(statements), statements
        # Whole hours come from the hourly rows, the minutes around them from the minute rows.
        assert any("FROM span_rollups_hourly" in s for s in statements)
        _assert_answers_match(got, expected)

    with statement_log(engine) as statements:
        minutes = await analytics.time_series(engine, by_minute, TimeBucket.MINUTE)
    assert _reads_rollups(statements), statements
    assert len(minutes) == 7 * 60
    for b, e in zip(minutes, exact_minutes, strict=True):
        assert (b.start, b.end) == (e.start, e.end)
        _assert_measures_match(b.measures, e.measures, f"minute {e.start}")

    # A short range, a filter, and grouping by name stay on the raw rows, exactly.
    short = Scope.of(seeded, TimeRange(NOW - timedelta(hours=5), NOW))
    filtered = Scope.of(seeded, TimeRange(*RANGE), Conditions(kinds=("LLM",)))
    with statement_log(engine) as statements:
        await analytics.totals(engine, short)
        await analytics.totals(engine, filtered)
        await analytics.groups(engine, scopes[0], GroupBy.NAME, 5)
    assert not any("FROM span_rollups" in s for s in statements)


async def test_replayed_and_duplicated_trace_events_change_nothing(
    engine: AsyncEngine, bus: EmbeddedBus, seeded: uuid.UUID
) -> None:
    await _publish_trace_events(engine, bus, seeded)
    await _roll_up(engine, bus, "rollups-replay")
    tables = ("span_rollups", "trace_rollups", "span_rollups_hourly", "trace_rollups_hourly")
    before = [await _table(engine, t, seeded) for t in tables]
    assert sum(r[5] for r in before[0]) == sum(r[5] for r in before[2]) == SPANS
    assert sum(r[2] for r in before[1]) == sum(r[2] for r in before[3]) == SPANS // 10

    # The same events again, twice over, by a worker of another group (a full replay).
    await _publish_trace_events(engine, bus, seeded)
    await _publish_trace_events(engine, bus, seeded)
    await _roll_up(engine, bus, "rollups-replay-again")
    assert [await _table(engine, t, seeded) for t in tables] == before


def _span(trace: str, span: str, start: datetime, ms: float, **fields: Any) -> dict[str, Any]:
    start_ns = int(start.timestamp() * 10**6) * 1000
    return {
        "trace_id": trace,
        "span_id": span,
        "name": "late",
        "start_time_unix_nano": start_ns,
        "end_time_unix_nano": start_ns + int(ms * 10**6),
        **fields,
    }


async def _store_through_the_worker(
    engine: AsyncEngine, bus: EmbeddedBus, project: uuid.UUID, spans: list[dict[str, Any]]
) -> None:
    """The storage worker's real path: a span batch on the bus, stored, then its
    ``trace-events`` produced."""
    await bus.publish(
        [
            OutgoingMessage(
                topic=topics.SPANS,
                key=span_batch.message_key(project, spans[0]["trace_id"]),
                value=span_batch.encode(project, spans),  # type: ignore[arg-type]
            )
        ]
    )
    group = f"storage-{uuid.uuid4().hex[:8]}"
    consumer = bus.consumer(topics.SPANS, group)
    await consumer.start()
    messages = [
        m
        for m in await consumer.fetch(10_000, 0)
        if span_batch.decode(m.value)["project_id"] == str(project)
    ]
    live = LiveEvents(None)
    await live.start()
    try:
        worker = StorageWorker(
            engine=engine,
            bus=bus,
            consumer=consumer,
            live=live,
            cache=MemoryCache(),
            batch_max_messages=100,
            batch_max_wait_ms=0,
        )
        await worker.process(messages)
    finally:
        await live.stop()


async def _minute_counts(engine: AsyncEngine, project: uuid.UUID) -> dict[datetime, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT minute, sum(span_count) AS n FROM span_rollups WHERE project_id = :p"
                " GROUP BY minute"
            ),
            {"p": project},
        )
        return {r.minute: int(r.n) for r in rows}


async def test_a_late_span_updates_its_old_minute_and_a_moved_start_leaves_its_minute(
    engine: AsyncEngine, bus: EmbeddedBus
) -> None:
    project = (await create_project(engine, f"late-{uuid.uuid4().hex[:8]}")).id
    trace = uuid.uuid4().hex
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    await _store_through_the_worker(
        engine, bus, project, [_span(trace, "00000000000000a1", now - timedelta(minutes=2), 10)]
    )
    group = f"analytics-{project}"
    await _roll_up(engine, bus, group)
    assert await _minute_counts(engine, project) == {now - timedelta(minutes=2): 1}

    # A span from two days ago arrives now: its old minute is recomputed.
    old = now - timedelta(days=2, minutes=13)
    await _store_through_the_worker(
        engine, bus, project, [_span(trace, "00000000000000a2", old + timedelta(seconds=5), 40)]
    )
    await _roll_up(engine, bus, group)
    assert await _minute_counts(engine, project) == {now - timedelta(minutes=2): 1, old: 1}

    # An update reporting an earlier start moves the first span: the minute it left
    # no longer counts it.
    moved = now - timedelta(minutes=30)
    await _store_through_the_worker(
        engine, bus, project, [_span(trace, "00000000000000a1", moved, 10)]
    )
    await _roll_up(engine, bus, group)
    assert await _minute_counts(engine, project) == {moved: 1, old: 1}

    # analytics-events tell which minutes changed, per project.
    produced = [
        orjson.loads(m.value)
        for m in await _fetch_all(bus, topics.ANALYTICS_EVENTS, f"reader-{project}")
        if m.key == str(project).encode()
    ]
    assert all(e["type"] == ROLLUPS_UPDATED for e in produced)
    assert produced[-1]["minutes"] == sorted(
        m.isoformat() for m in (old, moved, now - timedelta(minutes=2))
    )


async def test_the_run_loop_rolls_up_and_commits_what_it_consumed(
    engine: AsyncEngine, bus: EmbeddedBus
) -> None:
    import asyncio

    project = (await create_project(engine, f"loop-{uuid.uuid4().hex[:8]}")).id
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    await _store_through_the_worker(
        engine, bus, project, [_span(uuid.uuid4().hex, "00000000000000b1", start, 5)]
    )
    group = f"loop-{project}"
    stopping = asyncio.Event()
    task = asyncio.create_task(_worker(engine, bus, group).run(stopping))
    try:
        for _ in range(100):
            if await _minute_counts(engine, project):
                break
            await asyncio.sleep(0.1)
    finally:
        stopping.set()
        await task
    assert await _minute_counts(engine, project) == {start: 1}
    # Everything it consumed is committed: a new member of the group starts past it.
    assert await _fetch_all(bus, topics.TRACE_EVENTS, group) == []


async def test_dirty_minutes_are_read_raw_until_recomputed_and_deleted_traces_leave(
    engine: AsyncEngine, bus: EmbeddedBus
) -> None:
    project = (await create_project(engine, f"dirty-{uuid.uuid4().hex[:8]}")).id
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=10)
    traces = [uuid.uuid4().hex for _ in range(8)]
    for i, trace in enumerate(traces):
        at = base + timedelta(hours=i, seconds=30)
        await _store_through_the_worker(
            engine,
            bus,
            project,
            [_span(trace, f"{i + 1:016x}", at, 20, kind="LLM", input_tokens=10, cost=0.5)],
        )
    group = f"dirty-{project}"
    await _roll_up(engine, bus, group)
    scope = Scope.of(project, TimeRange(base, base + timedelta(hours=9)))

    async def totals() -> Measures:
        with statement_log(engine) as statements:
            found = await analytics.totals(engine, scope)
        assert _reads_rollups(statements), statements
        return found

    assert (await totals()).span_count == 8

    # A late span in an old minute, marked but not yet recomputed (it has not settled):
    # the rollup of its minute is stale, so that minute is read from the raw rows.
    late = base + timedelta(hours=2, minutes=10)
    await _store_through_the_worker(
        engine,
        bus,
        project,
        [_span(traces[2], "00000000000000ff", late, 20, kind="LLM", input_tokens=7, cost=0.25)],
    )
    await _roll_up(engine, bus, group, settle=timedelta(days=365))
    assert late not in await _minute_counts(engine, project)
    found = await totals()
    assert (found.span_count, found.input_tokens, found.cost) == (9, 87, 4.25)

    # Once settled it is recomputed, with the same answer, now from its rollup.
    await _roll_up(engine, bus, group)
    assert (await _minute_counts(engine, project))[late] == 1
    assert (await totals()).span_count == 9

    # A deleted trace (here, the late span's) leaves its minutes' rollups too.
    gone = [(project, trace_id_from_hex(traces[2]))]
    async with engine.begin() as conn:
        for table in ("spans", "traces"):
            await conn.execute(
                text(f"DELETE FROM {table} WHERE project_id = :p AND trace_id = :t"),
                {"p": project, "t": gone[0][1]},
            )
        await forget_traces(conn, gone)
    await _roll_up(engine, bus, group)
    assert late not in await _minute_counts(engine, project)
    found = await totals()
    assert (found.span_count, found.trace_count, found.input_tokens) == (7, 7, 70)


def _percentile_cont(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def test_histogram_percentiles_stay_within_the_stated_error() -> None:
    rng = random.Random(3)
    for size in (1, 2, 7, 100, 5_000):
        values = [round(rng.lognormvariate(5, 2), 3) for _ in range(size)] + [0.0]
        counts: dict[int, int] = {}
        for v in values:
            counts[latency_bucket(v)] = counts.get(latency_bucket(v), 0) + 1
        buckets = sorted(counts)
        found = histogram_percentiles(buckets, [counts[b] for b in buckets], (0.5, 0.95, 0.99))
        assert found is not None
        for fraction, got in zip((0.5, 0.95, 0.99), found, strict=True):
            exact = _percentile_cont(values, fraction)
            assert abs(got - exact) <= RELATIVE_ERROR * exact + 1e-12, (size, fraction)
    assert histogram_percentiles([], [], (0.5,)) is None
    assert bucket_value(latency_bucket(0.0)) == 0.0
    assert RELATIVE_ERROR < 0.025
