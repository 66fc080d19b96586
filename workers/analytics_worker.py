"""The analytics worker: bus ``trace-events`` → per-minute rollups → ``analytics-events``.

Each ``trace.updated`` event names a trace the storage worker changed. Every flush
interval the worker marks dirty, in one transaction, each minute the touched traces'
spans start in (or started in when last marked), and only then commits the bus offsets.
Then it recomputes the dirty minutes that have settled (storage/rollups.py), each from
the raw rows, and produces one ``rollups.updated`` event per project on
``analytics-events`` before that transaction commits. A crash replays the events or
leaves the minutes dirty, and recomputing a minute twice gives the same rows: nothing is
ever counted twice. A late span (one starting long ago) simply dirties its old minute.

The first time it meets a project, the worker backfills all of that project's minutes
from its spans and marks it complete; only then do analytics read its rollups.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson
import structlog
from aiokafka.errors import KafkaError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential

from messaging import topics
from messaging.bus import Bus, BusConsumer, BusUnavailable, OutgoingMessage, ReceivedMessage
from storage.otel_ids import InvalidId, trace_id_from_hex
from storage.rollups import (
    SETTLE,
    Recomputed,
    backfill_project,
    incomplete_projects,
    mark_traces,
    recompute_settled,
)
from workers.trace_events import TRACE_UPDATED

log = structlog.get_logger(__name__)
T = TypeVar("T")

ROLLUPS_UPDATED = "rollups.updated"
MAX_MINUTES_PER_EVENT = 500
"""A backfill may refresh months of minutes: its event is cut into messages this long."""


@dataclass(frozen=True, slots=True)
class TraceChange:
    project_id: uuid.UUID
    trace_id: uuid.UUID
    stored_at: datetime | None
    """The trace row's ``updated_at``: when the storage worker stored the change."""


def trace_change(message: ReceivedMessage) -> TraceChange | None:
    """The trace a ``trace-events`` message is about; None for anything else (another
    event type, or a message that does not decode)."""
    try:
        event = orjson.loads(message.value)
        if not isinstance(event, dict) or event.get("type") != TRACE_UPDATED:
            return None
        updated_at = event.get("updated_at")
        return TraceChange(
            uuid.UUID(str(event["project_id"])),
            trace_id_from_hex(str(event["trace_id"])),
            datetime.fromisoformat(updated_at) if isinstance(updated_at, str) else None,
        )
    except (orjson.JSONDecodeError, KeyError, ValueError, InvalidId):
        return None


def rollup_events(recomputed: Recomputed) -> list[OutgoingMessage]:
    """One ``rollups.updated`` event per project (and per MAX_MINUTES_PER_EVENT minutes)."""
    messages = []
    for project_id, minutes in sorted(recomputed.minutes.items()):
        for at in range(0, len(minutes), MAX_MINUTES_PER_EVENT):
            event: dict[str, Any] = {
                "type": ROLLUPS_UPDATED,
                "project_id": str(project_id),
                "minutes": [m.isoformat() for m in minutes[at : at + MAX_MINUTES_PER_EVENT]],
            }
            messages.append(
                OutgoingMessage(
                    topic=topics.ANALYTICS_EVENTS,
                    key=str(project_id).encode(),
                    value=orjson.dumps(event),
                )
            )
    return messages


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DataError | IntegrityError):
        return False
    return isinstance(exc, DBAPIError | OSError | BusUnavailable | KafkaError)


class AnalyticsWorker:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        bus: Bus,
        consumer: BusConsumer,
        flush_interval_s: float,
        batch_max_messages: int,
        settle: timedelta = SETTLE,
    ) -> None:
        self._engine = engine
        self._bus = bus
        self._consumer = consumer
        self._flush_interval_s = flush_interval_s
        self._max_messages = batch_max_messages
        self._settle = settle

    async def run(self, stopping: asyncio.Event) -> None:
        """Consumes until ``stopping`` is set; handles what it holds before leaving."""
        await self._retrying(self._consumer.start)
        log.info("analytics_worker.started")
        pending: list[ReceivedMessage] = []
        due = time.monotonic() + self._flush_interval_s
        try:
            while not stopping.is_set():
                # Wait no longer than the next flush (which also recomputes the minutes
                # that have settled meanwhile, events or not).
                wait_ms = max(0, int((due - time.monotonic()) * 1000))
                room = self._max_messages - len(pending)
                pending += await self._consumer.fetch(room, wait_ms)
                if time.monotonic() >= due or len(pending) >= self._max_messages:
                    await self.process(pending)
                    pending = []
                    due = time.monotonic() + self._flush_interval_s
            if pending:
                await self.process(pending)
        finally:
            await self._consumer.stop()
            log.info("analytics_worker.stopped")

    async def process(self, messages: Sequence[ReceivedMessage]) -> Recomputed:
        """Marks the minutes the traces in ``messages`` touch, commits the messages, then
        recomputes the settled dirty minutes. Returns the minutes recomputed (backfills
        included)."""
        changes = [c for m in messages if (c := trace_change(m)) is not None]
        backfilled = await self._retrying(lambda: self._backfill({c.project_id for c in changes}))
        if changes:
            await self._retrying(lambda: self._mark(changes))
        if messages:
            try:
                await self._consumer.commit(messages)
            except Exception as exc:  # noqa: BLE001
                # The partitions moved to another member, which replays them: harmless.
                log.warning("analytics_worker.commit_failed", error=repr(exc))
        recomputed = await self._retrying(self.recompute_pass)
        if messages or recomputed.minutes:
            log.info(
                "analytics_worker.rolled_up",
                messages=len(messages),
                traces=len({(c.project_id, c.trace_id) for c in changes}),
                minutes=sum(len(m) for m in recomputed.minutes.values()),
            )
        return backfilled.merged(recomputed)

    async def recompute_pass(self) -> Recomputed:
        """Recomputes every dirty minute that has settled, a batch per transaction; each
        batch's ``analytics-events`` are acknowledged before it commits (a failure leaves
        its minutes dirty, to be recomputed and announced again)."""
        done = Recomputed({})
        while True:
            async with self._engine.begin() as conn:
                minutes = await recompute_settled(conn, self._settle)
                if minutes:
                    await self._bus.publish(rollup_events(Recomputed.of(minutes)))
            if not minutes:
                return done
            done = done.merged(Recomputed.of(minutes))

    async def _backfill(self, projects: set[uuid.UUID]) -> Recomputed:
        backfilled = Recomputed({})
        if not projects:
            return backfilled
        for project_id in await incomplete_projects(self._engine, projects):
            log.info("analytics_worker.backfilling", project_id=str(project_id))
            minutes = Recomputed.of(await backfill_project(self._engine, project_id))
            await self._bus.publish(rollup_events(minutes))
            backfilled = backfilled.merged(minutes)
        return backfilled

    async def _mark(self, changes: list[TraceChange]) -> None:
        stored_through: dict[uuid.UUID, datetime] = {}
        for c in changes:
            if c.stored_at is not None:
                known = stored_through.get(c.project_id)
                stored_through[c.project_id] = max(c.stored_at, known or c.stored_at)
        async with self._engine.begin() as conn:
            await mark_traces(conn, [(c.project_id, c.trace_id) for c in changes], stored_through)

    async def _retrying(self, action: Callable[[], Awaitable[T]]) -> T:
        """Retries while the database or the bus is down; nothing is committed meanwhile."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_is_transient),
            wait=wait_exponential(multiplier=0.2, max=5),
            before_sleep=lambda state: log.warning(
                "analytics_worker.retrying",
                error=repr(state.outcome.exception() if state.outcome else None),
            ),
        ):
            with attempt:
                return await action()
        raise AssertionError("unreachable: tenacity retries until success")
