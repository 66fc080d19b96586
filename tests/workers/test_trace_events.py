"""The storage worker's ``trace.updated`` events, on real PostgreSQL: a live subscriber
gets the whole stored trace row, and ``trace-events`` the same minus the span list."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from cache.store import MemoryCache
from devservices import DevServices
from messaging import span_batch, topics
from messaging.bus import OutgoingMessage
from messaging.embedded_bus import EmbeddedBus
from messaging.live_events import LiveEvents, project_channel
from messaging.span_batch import SpanRecord
from storage.database import create_engine, to_async_url
from storage.migrate import upgrade_async
from workers.storage_worker import StorageWorker

T0 = 1_700_000_000_000_000_000  # Unix nanoseconds
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
ROOT, LLM, TOOL = "00f067aa0ba902b7", "b7ad6b7169203331", "f000000000000001"


@pytest.fixture(scope="module")
async def engine(services: DevServices) -> AsyncIterator[AsyncEngine]:
    """A database of its own: the embedded bus's topics are per database."""
    server = to_async_url(services.database_url)
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    name = f"test_trace_events_{uuid.uuid4().hex[:12]}"
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{server.rsplit('/', 1)[0]}/{name}"
    await upgrade_async(url)
    engine = create_engine(url, pool_size=2)
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


def _iso(nanos: int) -> str:
    seconds, rest = divmod(nanos, 1_000_000_000)
    return (
        datetime.fromtimestamp(seconds, tz=UTC) + timedelta(microseconds=rest // 1000)
    ).isoformat()


def _span(span_id: str, name: str, start_ms: int, **fields: Any) -> SpanRecord:
    record: dict[str, Any] = {
        "trace_id": TRACE,
        "span_id": span_id,
        "name": name,
        "start_time_unix_nano": T0 + start_ms * 1_000_000,
        **fields,
    }
    return record  # type: ignore[return-value]


async def _process(
    engine: AsyncEngine, batches: list[list[SpanRecord]]
) -> tuple[uuid.UUID, list[dict[str, Any]], list[dict[str, Any]]]:
    """Runs one worker batch over ``batches`` (one bus message each); returns the project,
    its live events and its ``trace-events`` messages."""
    project_id = uuid.uuid4()
    bus = EmbeddedBus(engine)
    live = LiveEvents(None)
    await bus.start()
    await live.start()
    try:
        await bus.publish(
            [
                OutgoingMessage(
                    topic=topics.SPANS,
                    key=span_batch.message_key(project_id, TRACE),
                    value=span_batch.encode(project_id, spans),
                )
                for spans in batches
            ]
        )
        group = f"test-{project_id}"
        consumer = bus.consumer(topics.SPANS, group)
        await consumer.start()
        worker = StorageWorker(
            engine=engine,
            bus=bus,
            consumer=consumer,
            live=live,
            cache=MemoryCache(),
            batch_max_messages=100,
            batch_max_wait_ms=0,
        )
        messages = [
            m
            for m in await consumer.fetch(1000, 0)
            if span_batch.decode(m.value)["project_id"] == str(project_id)
        ]
        async with live.subscribe(project_channel(project_id)) as events:
            await worker.process(messages)
            live_events = [await anext(events)]
        trace_events_consumer = bus.consumer(topics.TRACE_EVENTS, group)
        await trace_events_consumer.start()
        trace_events = [
            orjson.loads(m.value)
            for m in await trace_events_consumer.fetch(10_000, 0)
            if m.key == span_batch.message_key(project_id, TRACE)
        ]
        return project_id, live_events, trace_events
    finally:
        await live.stop()
        await bus.stop()


async def _stored_row(engine: AsyncEngine, project_id: uuid.UUID) -> Any:
    async with engine.connect() as conn:
        result = await conn.execute(
            text("SELECT * FROM traces WHERE project_id = :p"), {"p": project_id}
        )
        return result.mappings().one()


async def test_a_live_event_carries_the_whole_stored_trace_row(engine: AsyncEngine) -> None:
    first = [
        _span(ROOT, "agent", 0, kind="AGENT", end_time_unix_nano=T0 + 900_000_000,
              user_id="u-1", session_id="s-1", environment="prod", tags=["b"],
              metadata={"k": "v"}),
        _span(LLM, "llm", 10, parent_span_id=ROOT, kind="LLM", status="OK",
              end_time_unix_nano=T0 + 500_000_000, input_tokens=30, output_tokens=12,
              cost=0.25, tags=["a"]),
        _span(TOOL, "search", 600, parent_span_id=ROOT, kind="TOOL"),
    ]  # fmt: skip
    # The tool's end in a second message of the same batch: one span, merged.
    second = [_span(TOOL, "search", 600, parent_span_id=ROOT, kind="TOOL", status="ERROR",
                    end_time_unix_nano=T0 + 700_000_000)]  # fmt: skip
    project_id, [event], trace_events = await _process(engine, [first, second])
    row = await _stored_row(engine, project_id)

    spans = event.pop("spans")
    # The ingest requests behind the change (none here: these messages carry no request id).
    assert event.pop("correlation_ids") == []
    assert event == {
        "type": "trace.updated",
        "project_id": str(project_id),
        "trace_id": TRACE,
        "name": "agent",
        "status": "ERROR",
        "start_time": _iso(T0),
        "end_time": _iso(T0 + 900_000_000),
        "duration_ms": 900.0,
        "root_span_id": ROOT,
        "span_count": 3,
        "error_count": 1,
        "input_tokens": 30,
        "output_tokens": 12,
        "total_tokens": 42,
        "cost": 0.25,
        "user_id": "u-1",
        "session_id": "s-1",
        "environment": "prod",
        "tags": ["a", "b"],
        "metadata": {"k": "v"},
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }
    assert spans == [
        {"span_id": ROOT, "parent_span_id": None, "name": "agent", "kind": "AGENT",
         "status": "UNSET", "start_time": _iso(T0), "ended": True},
        {"span_id": LLM, "parent_span_id": ROOT, "name": "llm", "kind": "LLM",
         "status": "OK", "start_time": _iso(T0 + 10_000_000), "ended": True},
        {"span_id": TOOL, "parent_span_id": ROOT, "name": "search", "kind": "TOOL",
         "status": "ERROR", "start_time": _iso(T0 + 600_000_000), "ended": True},
    ]  # fmt: skip
    assert trace_events == [event]


async def test_a_running_trace_has_no_end_and_no_duration(engine: AsyncEngine) -> None:
    _, [event], [trace_event] = await _process(engine, [[_span(ROOT, "agent", 0, kind="AGENT")]])
    assert (event["status"], event["end_time"], event["duration_ms"]) == ("RUNNING", None, None)
    assert (event["user_id"], event["tags"], event["metadata"]) == (None, [], {})
    assert event["spans"] == [
        {"span_id": ROOT, "parent_span_id": None, "name": "agent", "kind": "AGENT",
         "status": "UNSET", "start_time": _iso(T0), "ended": False},
    ]  # fmt: skip
    live_only = ("spans", "correlation_ids")
    assert trace_event == {k: v for k, v in event.items() if k not in live_only}
