"""The bus of the single-machine ``serve``: in-process, and durable.

A publish returns once its rows are committed to the embedded PostgreSQL, so an
acknowledged span survives a crash of the process, just as with Kafka (the promise peers
with in-memory buffers do not keep). Concurrent publishes are written by one writer task
in one statement each round (group commit): ids then commit in order, which lets a
consumer read by ``id > position`` without skipping a late-committing row.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.bus import BusConsumer, BusUnavailable, OutgoingMessage, ReceivedMessage

log = structlog.get_logger(__name__)

_INSERT = text(
    """
    INSERT INTO bus_messages (topic, key, value, headers)
    SELECT * FROM unnest(CAST(:topics AS text[]), CAST(:keys AS bytea[]),
                         CAST(:values AS bytea[]), CAST(:headers AS jsonb[]))
    """
)


@dataclass(slots=True)
class _Pending:
    messages: Sequence[OutgoingMessage]
    done: asyncio.Future[None]


def _encode_headers(headers: Sequence[tuple[str, bytes]]) -> str:
    return orjson.dumps({k: base64.b64encode(v).decode() for k, v in headers}).decode()


def _decode_headers(raw: dict[str, str]) -> tuple[tuple[str, bytes], ...]:
    return tuple((k, base64.b64decode(v)) for k, v in raw.items())


class EmbeddedBus:
    def __init__(self, engine: AsyncEngine, *, retention_s: float = 24 * 3600) -> None:
        self._engine = engine
        self._retention_s = retention_s
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._published = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._write_loop(), name="embedded-bus-writer"),
            asyncio.create_task(self._retention_loop(), name="embedded-bus-retention"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if not self._tasks:
            raise BusUnavailable("the embedded bus is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(messages, done))
        await done

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            messages = [m for pending in batch for m in pending.messages]
            try:
                async with self._engine.begin() as conn:
                    await conn.execute(
                        _INSERT,
                        {
                            "topics": [m.topic for m in messages],
                            "keys": [m.key for m in messages],
                            "values": [m.value for m in messages],
                            "headers": [_encode_headers(m.headers) for m in messages],
                        },
                    )
            except (DBAPIError, OperationalError, OSError) as exc:
                error = BusUnavailable(f"the embedded bus could not store the batch: {exc}")
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(error)
                continue
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_result(None)
            async with self._published:
                self._published.notify_all()

    async def wait_for_publish(self, timeout_s: float) -> None:
        async with self._published:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._published.wait(), timeout_s)

    async def _retention_loop(self) -> None:
        """Deletes what every consumer group has read, and anything past retention."""
        while True:
            await asyncio.sleep(60)
            try:
                async with self._engine.begin() as conn:
                    await conn.execute(
                        text(
                            """
                            DELETE FROM bus_messages m
                            WHERE m.id <= (SELECT min(o.committed_id) FROM bus_offsets o
                                           WHERE o.topic = m.topic)
                               OR m.created_at < now() - make_interval(secs => :retention)
                            """
                        ),
                        {"retention": self._retention_s},
                    )
            except (DBAPIError, OperationalError, OSError) as exc:
                log.warning("embedded_bus.retention_failed", error=str(exc))

    def consumer(self, topic: str, group: str) -> BusConsumer:
        return EmbeddedConsumer(self, self._engine, topic, group)

    async def ping(self) -> bool:
        return bool(self._tasks)


class EmbeddedConsumer:
    """Reads one topic in id order; its position is committed per group."""

    def __init__(self, bus: EmbeddedBus, engine: AsyncEngine, topic: str, group: str) -> None:
        self._bus = bus
        self._engine = engine
        self._topic = topic
        self._group = group
        self._position = 0

    async def start(self) -> None:
        async with self._engine.connect() as conn:
            committed = await conn.scalar(
                text("SELECT committed_id FROM bus_offsets WHERE group_name = :g AND topic = :t"),
                {"g": self._group, "t": self._topic},
            )
        self._position = int(committed or 0)

    async def stop(self) -> None:
        return None

    async def _read(self, max_messages: int) -> list[ReceivedMessage]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT id, key, value, headers FROM bus_messages"
                    " WHERE topic = :t AND id > :p ORDER BY id LIMIT :n"
                ),
                {"t": self._topic, "p": self._position, "n": max_messages},
            )
            messages = [
                ReceivedMessage(
                    topic=self._topic,
                    partition=0,
                    offset=row.id,
                    key=row.key,
                    value=row.value,
                    headers=_decode_headers(row.headers),
                )
                for row in rows
            ]
        if messages:
            self._position = messages[-1].offset
        return messages

    async def fetch(self, max_messages: int, timeout_ms: int) -> list[ReceivedMessage]:
        messages = await self._read(max_messages)
        if messages or timeout_ms <= 0:
            return messages
        await self._bus.wait_for_publish(timeout_ms / 1000)
        return await self._read(max_messages)

    async def commit(self, messages: Sequence[ReceivedMessage]) -> None:
        if not messages:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    """
                    INSERT INTO bus_offsets (group_name, topic, committed_id)
                    VALUES (:g, :t, :id)
                    ON CONFLICT (group_name, topic)
                    DO UPDATE SET committed_id = GREATEST(bus_offsets.committed_id, EXCLUDED.committed_id)
                    """
                ),
                {"g": self._group, "t": self._topic, "id": max(m.offset for m in messages)},
            )
