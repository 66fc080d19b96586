"""Retention on real PostgreSQL: exactly the traces past their project's age go, whole,
while new spans keep being stored; one process at a time runs it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.workload import Workload, span_rows
from devservices import DevServices
from storage.database import create_engine
from storage.projects import create_project
from storage.retention import set_project_retention_days
from tests.databases import fresh_database
from workers.retention import ADVISORY_LOCK, enforce_retention
from workers.span_store import store_spans

DAY_NS = 86_400 * 1_000_000_000


@pytest.fixture(scope="module")
async def engine(services: DevServices) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await fresh_database(services, "test_retention"), pool_size=4)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _store(
    engine: AsyncEngine, project: uuid.UUID, workload: Workload, count: int
) -> set[str]:
    traces = list(workload.traces(count))
    async with engine.begin() as conn:
        await store_spans(conn, span_rows(project, traces))
    return {str(uuid.UUID(trace.trace_id)) for trace in traces}


async def _trace_ids(engine: AsyncEngine, project: uuid.UUID) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT trace_id FROM traces WHERE project_id = :p"), {"p": project}
        )
        return {str(row.trace_id) for row in rows}


async def _span_count(engine: AsyncEngine, project: uuid.UUID) -> int:
    async with engine.connect() as conn:
        count: int = await conn.scalar(
            text("SELECT count(*) FROM spans WHERE project_id = :p"), {"p": project}
        )
    return count


async def test_exactly_the_traces_past_their_age_go_while_new_spans_arrive(
    engine: AsyncEngine,
) -> None:
    now_ns = time.time_ns()
    kept_project = (await create_project(engine, f"keep-{uuid.uuid4().hex[:6]}")).id
    project = (await create_project(engine, f"expire-{uuid.uuid4().hex[:6]}")).id
    await set_project_retention_days(engine, project, 30)

    # 40 to 33 days old: past 30 days. 27 to 20 days old: within it.
    old = Workload(seed=1, now_ns=now_ns - 33 * DAY_NS, window_s=7 * 86_400)
    recent = Workload(seed=2, now_ns=now_ns - 20 * DAY_NS, window_s=7 * 86_400)
    expired = await _store(engine, project, old, 1_200)
    young = await _store(engine, project, recent, 300)
    untouched = await _store(engine, kept_project, old, 50)

    async def ingest_meanwhile() -> set[str]:
        stored: set[str] = set()
        for round_number in range(20):
            fresh = Workload(seed=100 + round_number, now_ns=time.time_ns(), window_s=60)
            stored |= await _store(engine, project, fresh, 20)
            await asyncio.sleep(0)
        return stored

    # Small batches, so the run takes many transactions while ingest goes on.
    report, fresh = await asyncio.gather(
        enforce_retention(engine, default_days=0, batch_traces=50), ingest_meanwhile()
    )

    assert report.ran
    assert report.deleted_traces == {project: len(expired)}
    assert await _trace_ids(engine, project) == young | fresh
    assert await _span_count(engine, project) == 10 * len(young | fresh)
    assert await _trace_ids(engine, kept_project) == untouched


async def test_the_server_default_applies_to_projects_without_their_own(
    engine: AsyncEngine,
) -> None:
    now_ns = time.time_ns()
    forever = (await create_project(engine, f"forever-{uuid.uuid4().hex[:6]}")).id
    defaulted = (await create_project(engine, f"default-{uuid.uuid4().hex[:6]}")).id
    await set_project_retention_days(engine, forever, 0)
    old = Workload(seed=3, now_ns=now_ns - 10 * DAY_NS, window_s=86_400)
    kept = await _store(engine, forever, old, 20)
    await _store(engine, defaulted, old, 20)

    report = await enforce_retention(engine, default_days=7)

    assert report.deleted_traces.get(defaulted) == 20
    assert forever not in report.deleted_traces
    assert await _trace_ids(engine, defaulted) == set()
    assert await _trace_ids(engine, forever) == kept


async def test_a_run_is_skipped_while_another_process_holds_the_lock(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as other:
        await other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK})
        try:
            report = await enforce_retention(engine, default_days=1)
        finally:
            await other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK})
    assert not report.ran
    assert report.total == 0
