"""The seeder writes through the storage worker's path into a real PostgreSQL."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.seed import project_id_for, seed, table_sizes
from bench.workload import Workload
from devservices import DevServices
from storage.database import to_async_url
from storage.migrate import upgrade_async


@pytest.fixture
async def engine(services: DevServices) -> AsyncIterator[AsyncEngine]:
    """A fresh, migrated database of its own on the session's PostgreSQL."""
    name = f"bench_seed_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(services.database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = to_async_url(services.database_url.rsplit("/", 1)[0] + "/" + name)
    await upgrade_async(url)
    created = create_async_engine(url, pool_size=1)
    try:
        yield created
    finally:
        await created.dispose()
        admin = await asyncpg.connect(services.database_url)
        try:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_seeding_stores_every_span_and_its_trace(engine: AsyncEngine) -> None:
    project_id, api_key = await project_id_for(engine, "bench")
    assert api_key is not None
    assert api_key.startswith("at_")
    workload = Workload(seed=1)
    out = io.StringIO()
    result = await seed(engine, project_id, 2_000, workload=workload, batch_spans=500, progress=out)
    assert (result.spans, result.traces) == (2_000, 200)
    assert "2,000/2,000 spans" in out.getvalue()

    async with engine.connect() as conn:
        spans = await conn.scalar(
            text("SELECT count(*) FROM spans WHERE project_id = :p"), {"p": project_id}
        )
        traces = (
            await conn.execute(
                text(
                    "SELECT count(*), sum(span_count), count(root_span_id), sum(error_count),"
                    " sum(total_tokens) FROM traces WHERE project_id = :p"
                ),
                {"p": project_id},
            )
        ).one()
    generated = [s for t in workload.traces(200) for s in t.spans]
    errors = sum(s.status == "ERROR" for s in generated)
    tokens = sum(s.total_tokens or 0 for s in generated if s.kind == "LLM")
    assert spans == 2_000
    assert tuple(traces) == (200, 2_000, 200, errors, tokens)
    assert set(await table_sizes(engine)) == {"spans", "traces"}

    # The same arguments again change nothing: the upsert is idempotent.
    assert await project_id_for(engine, "bench") == (project_id, None)
    await seed(engine, project_id, 2_000, workload=workload, progress=None)
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM spans")) == 2_000
        assert await conn.scalar(text("SELECT sum(span_count) FROM traces")) == 2_000


async def test_seeding_large_traces(engine: AsyncEngine) -> None:
    project_id, _ = await project_id_for(engine, "large")
    workload = Workload(spans_per_trace=1_000)
    result = await seed(engine, project_id, 2_500, workload=workload, progress=None)
    assert (result.spans, result.traces) == (2_500, 3)
    async with engine.connect() as conn:
        counts = await conn.scalars(text("SELECT span_count FROM traces ORDER BY span_count"))
        assert list(counts) == [500, 1_000, 1_000]
