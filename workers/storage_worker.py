"""The storage worker: bus ``agent-traces`` → PostgreSQL → live events and ``trace-events``.

Per batch: decode; apply each project's masking rules and prices (workers/
project_policies.py); store every good span in one transaction; mark the cache stale and
publish live events; dead-letter what can never be stored; produce ``trace-events``; and
only then commit the bus offsets. A crash at any point replays the batch, which the
idempotent upsert makes harmless.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import orjson
import structlog
from aiokafka.errors import KafkaError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential

from cache.keys import project_stats_key, trace_key
from cache.store import Cache
from messaging import span_batch, topics
from messaging.bus import Bus, BusConsumer, BusUnavailable, OutgoingMessage, ReceivedMessage
from messaging.live_events import LiveEvents, project_channel
from messaging.span_batch import CORRELATION_HEADER
from storage.database import sqlstate
from storage.otel_ids import trace_id_to_hex
from workers import metrics
from workers.project_policies import ProjectPolicies
from workers.span_rows import InvalidSpan, SpanRow, merge_duplicates, to_row
from workers.span_store import StoredTrace, store_spans
from workers.trace_events import live_event, trace_event

log = structlog.get_logger(__name__)
T = TypeVar("T")

DLQ_REASON_HEADER = "x-dlq-reason"


@dataclass(slots=True)
class _Decoded:
    message: ReceivedMessage
    rows: list[SpanRow] = field(default_factory=list)
    dead_reason: str | None = None


def _decode(message: ReceivedMessage) -> _Decoded:
    try:
        batch = span_batch.decode(message.value)
        project_id = uuid.UUID(batch["project_id"])
        return _Decoded(message, [to_row(project_id, record) for record in batch["spans"]])
    except (span_batch.UndecodableBatch, InvalidSpan, ValueError) as exc:
        return _Decoded(message, dead_reason=str(exc) or type(exc).__name__)


PROGRAM_LIMIT_EXCEEDED = "54"
"""SQLSTATE class of "index row too large", "too many columns"...: the data itself."""


def _is_poison(exc: BaseException) -> bool:
    """Errors that retrying can never fix: the data itself is refused."""
    if isinstance(exc, DataError | IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        return (sqlstate(exc) or "").startswith(PROGRAM_LIMIT_EXCEEDED)
    return False


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError | OSError | BusUnavailable | KafkaError) and not _is_poison(
        exc
    )


class StorageWorker:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        bus: Bus,
        consumer: BusConsumer,
        live: LiveEvents,
        cache: Cache,
        batch_max_messages: int,
        batch_max_wait_ms: int,
    ) -> None:
        self._engine = engine
        self._bus = bus
        self._consumer = consumer
        self._live = live
        self._cache = cache
        self._max_messages = batch_max_messages
        self._max_wait_ms = batch_max_wait_ms
        self._policies = ProjectPolicies(engine)

    async def run(self, stopping: asyncio.Event) -> None:
        """Consumes until ``stopping`` is set; finishes the batch in hand first.

        The next batch is fetched and decoded while this one is being stored, so Python's
        decoding runs while PostgreSQL writes (two cores at work, not one after the other).
        Batches are still stored and committed one at a time, in order; a batch decoded
        but not yet stored when the worker stops is not committed, so it is replayed."""
        await self._retrying(self._consumer.start)
        log.info("worker.started")
        upcoming: asyncio.Task[list[_Decoded]] | None = None
        try:
            upcoming = asyncio.create_task(self._fetch_decoded())
            while not stopping.is_set():
                decoded = await upcoming
                upcoming = asyncio.create_task(self._fetch_decoded())
                if decoded:
                    await self._process_decoded(decoded)
        finally:
            if upcoming is not None:
                upcoming.cancel()
                await asyncio.gather(upcoming, return_exceptions=True)
            await self._consumer.stop()
            log.info("worker.stopped")

    async def _fetch_decoded(self) -> list[_Decoded]:
        messages = await self._consumer.fetch(self._max_messages, self._max_wait_ms)
        return [_decode(m) for m in messages]

    async def process(self, messages: Sequence[ReceivedMessage]) -> None:
        """Stores one batch, publishes what it changed, then commits its offsets."""
        await self._process_decoded([_decode(m) for m in messages])

    async def _process_decoded(self, decoded: list[_Decoded]) -> None:
        messages = [d.message for d in decoded]
        with metrics.STORE_SECONDS.time():
            stored, rows = await self._retrying(lambda: self._store(decoded))
        spans = sum(len(d.rows) for d in decoded if d.dead_reason is None)
        metrics.BATCH_MESSAGES.observe(len(messages))
        metrics.BATCH_SPANS.observe(spans)
        metrics.STORED_SPANS.inc(spans)
        # The ingest requests this batch came from, so one request can be followed from
        # its answer to its storage (the id is the request's X-Request-Id, or made up).
        log.info(
            "worker.batch_stored",
            messages=len(messages),
            spans=spans,
            traces=len(stored),
            correlation_ids=_correlation_ids(messages),
        )
        # The batch is committed: mark cached copies stale first (a subscriber that reacts
        # by reading must not get a copy from before it), then tell live subscribers at
        # once rather than after the bus work below. Live events are a view: if a crash
        # replays this batch, subscribers hear of it twice, which they already handle.
        await self._invalidate_cache(stored)
        await self._publish_live(stored, rows, decoded)
        dead = [d for d in decoded if d.dead_reason is not None]
        if dead:
            await self._retrying(lambda: self._dead_letter(dead))
            metrics.DEAD_LETTERS.inc(len(dead))
        if stored:
            await self._retrying(lambda: self._bus.publish(_trace_events(stored)))
        try:
            await self._consumer.commit(messages)
        except Exception as exc:  # noqa: BLE001
            # A rebalance took the partitions away: the new owner replays the batch, and
            # the idempotent upsert makes that harmless.
            log.warning("worker.commit_failed", error=repr(exc))

    async def _retrying(self, action: Callable[[], Awaitable[T]]) -> T:
        """Retries transient failures (database or bus down) until they pass: nothing is
        committed meanwhile, so nothing acknowledged is skipped."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_is_transient),
            wait=wait_exponential(multiplier=0.2, max=5),
            before_sleep=lambda state: log.warning(
                "worker.retrying", error=repr(state.outcome.exception() if state.outcome else None)
            ),
        ):
            with attempt:
                return await action()
        raise AssertionError("unreachable: tenacity retries until success")

    async def _store(self, decoded: list[_Decoded]) -> tuple[list[StoredTrace], list[SpanRow]]:
        """The touched traces, and the stored messages' rows, one per span."""
        await self._apply_policies([d for d in decoded if d.dead_reason is None])
        good = [d for d in decoded if d.dead_reason is None]
        rows = merge_duplicates([r for d in good for r in d.rows])
        try:
            async with self._engine.begin() as conn:
                return await store_spans(conn, rows), rows
        except DBAPIError as exc:
            if not _is_poison(exc):
                raise
        # Some message's data is refused: store message by message to find it.
        stored: list[StoredTrace] = []
        for d in good:
            try:
                async with self._engine.begin() as conn:
                    stored += await store_spans(conn, merge_duplicates(d.rows))
            except DBAPIError as exc:
                if not _is_poison(exc):
                    raise
                d.dead_reason = f"refused by the database: {exc.orig!r}"
        return stored, merge_duplicates([r for d in good if d.dead_reason is None for r in d.rows])

    async def _apply_policies(self, decoded: list[_Decoded]) -> None:
        """Masks and prices each message's rows in place. Applying them twice (a retried
        batch) changes nothing more. A message they cannot be applied to (JSON nested
        too deeply to walk) is dead-lettered: storing it unmasked is not an option."""
        policies = await self._policies.of({r.project_id for d in decoded for r in d.rows})
        for d in decoded:
            try:
                d.rows = [policies[r.project_id].apply(r) for r in d.rows]
            except RecursionError:
                d.dead_reason = "a value is nested too deeply to apply the masking rules"

    async def _dead_letter(self, dead: list[_Decoded]) -> None:
        for d in dead:
            log.warning(
                "worker.dead_letter",
                partition=d.message.partition,
                offset=d.message.offset,
                reason=d.dead_reason,
            )
        await self._bus.publish(
            [
                OutgoingMessage(
                    topic=topics.DEAD_LETTERS,
                    key=d.message.key or b"",
                    value=d.message.value,
                    headers=(
                        *d.message.headers,
                        (DLQ_REASON_HEADER, (d.dead_reason or "").encode()),
                        (
                            "x-dlq-source",
                            f"{d.message.topic}/{d.message.partition}/{d.message.offset}".encode(),
                        ),
                    ),
                )
                for d in dead
            ]
        )

    async def _invalidate_cache(self, stored: list[StoredTrace]) -> None:
        keys = [trace_key(t.project_id, t.trace_id) for t in stored]
        keys += [project_stats_key(p) for p in {t.project_id for t in stored}]
        try:
            await self._cache.invalidate(keys)
        except Exception as exc:  # noqa: BLE001  the cache must never stop storage
            # Entries written before this batch expire on their TTL (30 s at most).
            log.warning("worker.cache_invalidate_failed", error=repr(exc))

    async def _publish_live(
        self, stored: list[StoredTrace], rows: list[SpanRow], decoded: list[_Decoded]
    ) -> None:
        """Live events are a view, not a record: a failure here is logged, never retried.
        ``rows``: the stored messages' rows, one per span."""
        spans_by_trace: dict[tuple[uuid.UUID, uuid.UUID], list[SpanRow]] = {}
        for r in rows:
            spans_by_trace.setdefault((r.project_id, r.trace_id), []).append(r)
        requests: dict[tuple[uuid.UUID, uuid.UUID], list[str]] = {}
        for d in decoded:
            header = d.message.header(CORRELATION_HEADER)
            if d.rows and header is not None:
                key = (d.rows[0].project_id, d.rows[0].trace_id)
                requests.setdefault(key, []).append(header.decode(errors="replace"))
        for trace in stored:
            key = (trace.project_id, trace.trace_id)
            event = live_event(trace, spans_by_trace.get(key, []))
            # The ingest requests behind this change, so an api's log of the event can be
            # tied to them (as the worker's batch_stored line is).
            event["correlation_ids"] = requests.get(key, [])[:MAX_LOGGED_CORRELATION_IDS]
            try:
                await self._live.publish(project_channel(trace.project_id), event)
            except Exception as exc:  # noqa: BLE001  any fan-out failure must not stop storage
                log.warning("worker.live_publish_failed", error=repr(exc))
                return


MAX_LOGGED_CORRELATION_IDS = 50


def _correlation_ids(messages: Sequence[ReceivedMessage]) -> list[str]:
    found: dict[str, None] = {}
    for message in messages:
        value = message.header(CORRELATION_HEADER)
        if value is not None:
            found[value.decode(errors="replace")] = None
            if len(found) >= MAX_LOGGED_CORRELATION_IDS:
                break
    return list(found)


def _trace_events(stored: list[StoredTrace]) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            topic=topics.TRACE_EVENTS,
            key=span_batch.message_key(t.project_id, trace_id_to_hex(t.trace_id)),
            value=orjson.dumps(trace_event(t)),
        )
        for t in stored
    ]
