"""The bus on Apache Kafka (aiokafka): idempotent producer with acks=all, manual commits."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaError,
    OutOfOrderSequenceNumber,
    TopicAlreadyExistsError,
    UnknownProducerId,
)
from prometheus_client import Gauge

from messaging import topics
from messaging.bus import BusConsumer, BusUnavailable, OutgoingMessage, ReceivedMessage

log = structlog.get_logger(__name__)


PRODUCER_STATE_LOST = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch)


PRODUCERS = 4
"""Producers per process. aiokafka sends one produce request at a time to a broker and,
with acks=all, waits for its answer before the next: one producer caps a process at the
messages of one request per round trip, with its CPU idle meanwhile (docs/benchmarks.md,
"Ingest: spans/s into Kafka"). Several keep several requests in flight."""


class KafkaBus:
    """Publishes with ``enable_idempotence`` (acks=all) and a short linger for batching,
    through ``producers`` producers; a message key always goes through the same one, so
    the messages of one trace stay in order.

    Each producer is (re)started lazily: an ingest process that starts while Kafka is down
    answers 503 until Kafka is back, then recovers without a restart.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        partitions: int,
        replication_factor: int,
        compression: str,
        linger_ms: int,
        publish_timeout_s: float,
        producers: int = PRODUCERS,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._partitions = partitions
        self._replication = replication_factor
        self._compression = None if compression == "none" else compression
        self._linger_ms = linger_ms
        self._publish_timeout_s = publish_timeout_s
        self._producers: list[AIOKafkaProducer | None] = [None] * producers
        self._topics_ready = False
        self._start_lock = asyncio.Lock()

    async def start(self) -> None:
        await self._ensure_topics()
        await asyncio.gather(*(self._ensure_producer(i) for i in range(len(self._producers))))

    async def stop(self) -> None:
        running = [p for p in self._producers if p is not None]
        self._producers = [None] * len(self._producers)
        await asyncio.gather(*(p.stop() for p in running))

    async def _ensure_topics(self) -> None:
        if self._topics_ready:
            return
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(name, self._partitions, self._replication)
                for name in topics.ALL
                if name not in existing
            ]
            if missing:
                # Another process may create them first; that is fine.
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(missing)
                log.info("kafka.topics_created", topics=[t.name for t in missing])
            self._topics_ready = True
        except KafkaError as exc:
            raise BusUnavailable(f"cannot reach Kafka at {self._bootstrap}: {exc}") from exc
        finally:
            await admin.close()

    async def _ensure_producer(self, index: int) -> AIOKafkaProducer:
        if (running := self._producers[index]) is not None:
            return running
        async with self._start_lock:
            if self._producers[index] is None:
                await self._ensure_topics()
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    enable_idempotence=True,
                    acks="all",
                    compression_type=self._compression,
                    linger_ms=self._linger_ms,
                    max_request_size=16 * 1024 * 1024,
                    request_timeout_ms=int(self._publish_timeout_s * 1000),
                )
                try:
                    await producer.start()
                except KafkaError as exc:
                    await producer.stop()
                    raise BusUnavailable(f"cannot reach Kafka: {exc}") from exc
                self._producers[index] = producer
            started = self._producers[index]
            assert started is not None
            return started

    def _index(self, key: bytes | None) -> int:
        return zlib.crc32(key) % len(self._producers) if key else 0

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if len(messages) == 1:
            await self._publish(self._index(messages[0].key), messages)
            return
        by_producer: dict[int, list[OutgoingMessage]] = {}
        for m in messages:
            by_producer.setdefault(self._index(m.key), []).append(m)
        await asyncio.gather(*(self._publish(i, ms) for i, ms in by_producer.items()))

    async def _publish(self, index: int, messages: Sequence[OutgoingMessage]) -> None:
        producer = await self._ensure_producer(index)
        try:
            futures = [
                await producer.send(m.topic, m.value, key=m.key, headers=list(m.headers))
                for m in messages
            ]
            async with asyncio.timeout(self._publish_timeout_s):
                await asyncio.gather(*futures)
        except (KafkaError, TimeoutError) as exc:
            if isinstance(exc, PRODUCER_STATE_LOST):
                # The broker lost this producer's sequence state (a restart with batches in
                # flight): aiokafka would get this error on every send from now on. A new
                # producer (a new producer id) starts clean; the refused request is retried
                # by its client, and a copy the old one did write is deduplicated in storage.
                await self._reset_producer(index, producer)
            raise BusUnavailable(f"Kafka did not acknowledge: {exc!r}") from exc

    async def _reset_producer(self, index: int, broken: AIOKafkaProducer) -> None:
        async with self._start_lock:
            # By id: an identity test would make mypy narrow `broken` to the attribute's type.
            if id(self._producers[index]) != id(broken):
                return  # another request replaced it already
            self._producers[index] = None
        log.warning("kafka.producer_reset", reason="producer state lost on the broker")
        with contextlib.suppress(KafkaError, TimeoutError):
            await asyncio.wait_for(broken.stop(), self._publish_timeout_s)

    def consumer(self, topic: str, group: str) -> BusConsumer:
        return KafkaConsumer(self._bootstrap, topic, group)

    async def ping(self) -> bool:
        try:
            producer = await self._ensure_producer(0)
            await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout=2)
        except (BusUnavailable, KafkaError, TimeoutError):
            return False
        return True


CONSUMER_LAG = Gauge(
    "agenttrace_consumer_lag_messages",
    "How far a consumer group member is behind a partition's end, after its last fetch"
    " from it (the HPA's external metric for workers: docs/operations.md)",
    ["topic", "group", "partition"],
)


class _LogAssignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """Says which partitions this member owns (how operators see the group split the
    work), and drops the lag it reported for partitions it no longer owns: their new owner
    reports it now."""

    def __init__(self, group: str) -> None:
        self._group = group

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("worker.partitions_revoked", partitions=sorted(tp.partition for tp in revoked))
        for tp in revoked:
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(tp.topic, self._group, str(tp.partition))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("worker.partitions_assigned", partitions=sorted(tp.partition for tp in assigned))


class KafkaConsumer:
    """A consumer-group member with manual commits (offsets only after the DB commit)."""

    def __init__(self, bootstrap_servers: str, topic: str, group: str) -> None:
        self._topic = topic
        self._group = group
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_partition_fetch_bytes=16 * 1024 * 1024,
        )

    async def start(self) -> None:
        await self._consumer.start()
        self._consumer.subscribe([self._topic], listener=_LogAssignments(self._group))

    async def stop(self) -> None:
        await self._consumer.stop()

    async def fetch(self, max_messages: int, timeout_ms: int) -> list[ReceivedMessage]:
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_messages)
        for tp, records in batches.items():
            end = self._consumer.highwater(tp)
            if end is not None and records:
                lag = max(0, end - (records[-1].offset + 1))
                CONSUMER_LAG.labels(tp.topic, self._group, str(tp.partition)).set(lag)
        return [
            ReceivedMessage(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value,
                headers=tuple(record.headers),
            )
            for records in batches.values()
            for record in records
        ]

    async def commit(self, messages: Sequence[ReceivedMessage]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for m in messages:
            tp = TopicPartition(m.topic, m.partition)
            offsets[tp] = max(offsets.get(tp, 0), m.offset + 1)
        if offsets:
            await self._consumer.commit(offsets)
