"""`agenttrace analytics-worker` as a real process on Kafka and PostgreSQL: it consumes
the storage worker's ``trace-events``, keeps the rollups, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.runtime import make_bus
from agenttrace.settings import Settings
from devservices import DevServices
from messaging import span_batch, topics
from messaging.bus import OutgoingMessage
from resolvers import analytics
from resolvers.analytics import Scope
from resolvers.filters import TimeRange
from storage.database import create_engine
from storage.projects import create_project
from tests.databases import fresh_database
from tests.processes import Process
from workers.span_rows import to_row
from workers.span_store import store_spans
from workers.trace_events import trace_event

TRACES = 12


async def _store(engine: AsyncEngine, project: uuid.UUID, start: datetime) -> list[bytes]:
    """One LLM span an hour; returns the storage worker's ``trace-events`` for them."""
    records = [
        {
            "trace_id": uuid.uuid4().hex,
            "span_id": f"{i + 1:016x}",
            "name": "chat",
            "kind": "LLM",
            "model": "gpt-4o",
            "start_time_unix_nano": int((start + timedelta(hours=i)).timestamp()) * 10**9,
            "end_time_unix_nano": int((start + timedelta(hours=i)).timestamp()) * 10**9 + 10**8,
            "input_tokens": 3,
            "cost": 0.5,
        }
        for i in range(TRACES)
    ]
    async with engine.begin() as conn:
        stored = await store_spans(conn, [to_row(project, r) for r in records])  # type: ignore[arg-type]
    return [orjson.dumps(trace_event(t)) for t in stored]


async def _rolled_up_spans(engine: AsyncEngine, project: uuid.UUID) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT COALESCE(sum(span_count), 0) FROM span_rollups WHERE project_id = :p"),
            {"p": project},
        )
    return int(found or 0)


async def test_the_analytics_worker_process_rolls_up_trace_events_from_kafka(
    services: DevServices, tmp_path: Path
) -> None:
    url = await fresh_database(services, "rollups_distributed")
    engine = create_engine(url, pool_size=2)
    settings = Settings(database_url=url, kafka_bootstrap_servers=services.kafka_bootstrap_servers)
    bus = make_bus(settings, engine)
    await bus.start()
    process = Process(
        ["analytics-worker"],
        {
            "AGENTTRACE_DATABASE_URL": services.database_url.rpartition("/")[0]
            + "/"
            + url.rpartition("/")[2],
            "AGENTTRACE_KAFKA_BOOTSTRAP_SERVERS": services.kafka_bootstrap_servers,
            "AGENTTRACE_ANALYTICS_CONSUMER_GROUP": f"rollups-{uuid.uuid4().hex[:8]}",
            "AGENTTRACE_ANALYTICS_FLUSH_INTERVAL_S": "0.5",
        },
        tmp_path / "analytics-worker.log",
    )
    try:
        project = (await create_project(engine, "distributed-rollups")).id
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
            hours=TRACES + 1
        )
        events = await _store(engine, project, start)
        await bus.publish(
            [
                OutgoingMessage(
                    topic=topics.TRACE_EVENTS,
                    key=span_batch.message_key(project, orjson.loads(e)["trace_id"]),
                    value=e,
                )
                for e in events
            ]
        )
        for _ in range(600):
            if await _rolled_up_spans(engine, project) == TRACES:
                break
            assert process.popen.poll() is None, process.output()[-3000:]
            await asyncio.sleep(0.1)
        assert await _rolled_up_spans(engine, project) == TRACES, process.output()[-3000:]

        scope = Scope.of(project, TimeRange(start, start + timedelta(hours=TRACES)))
        totals = await analytics.totals(engine, scope)
        assert (totals.span_count, totals.trace_count, totals.input_tokens) == (
            TRACES,
            TRACES,
            3 * TRACES,
        )
        assert totals.cost == 0.5 * TRACES
    finally:
        exit_code = process.stop()
        await bus.stop()
        await engine.dispose()
    assert exit_code == 0, process.output()[-3000:]
    assert "analytics_worker.stopped" in process.output()
