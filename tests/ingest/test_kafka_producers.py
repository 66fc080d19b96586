"""The Kafka bus's producers, on real Kafka: several keep several produce requests in
flight, and one key always goes through one of them, so a trace's messages stay in order
and every acknowledged message is there."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devservices import DevServices
from messaging.bus import OutgoingMessage
from messaging.kafka_bus import KafkaBus

PARTITIONS = 4


def bus_on(services: DevServices, producers: int) -> KafkaBus:
    return KafkaBus(
        services.kafka_bootstrap_servers,
        partitions=PARTITIONS,
        replication_factor=1,
        compression="zstd",
        linger_ms=0,
        publish_timeout_s=10,
        producers=producers,
    )


async def new_topic(services: DevServices) -> str:
    topic = f"test-producers-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=services.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    return topic


async def everything_in(services: DevServices, topic: str) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=services.kafka_bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[tuple[bytes, bytes]] = []
        while True:
            positions = {tp: await consumer.position(tp) for tp in partitions}
            if all(positions[tp] >= end for tp, end in ends.items()):
                return records
            batches = await consumer.getmany(timeout_ms=1000)
            records += [(r.key, r.value) for rs in batches.values() for r in rs]
    finally:
        await consumer.stop()


def message(topic: str, key: bytes, value: bytes) -> OutgoingMessage:
    return OutgoingMessage(topic=topic, key=key, value=value, headers=(("x", b"1"),))


async def test_every_acknowledged_message_is_in_kafka_in_order_per_key(
    services: DevServices,
) -> None:
    topic = await new_topic(services)
    bus = bus_on(services, producers=3)
    await bus.start()
    keys = [f"trace-{i}".encode() for i in range(24)]

    async def one_key_after_another(key: bytes) -> None:
        for n in range(5):
            await bus.publish([message(topic, key, b"%d" % n)])

    try:
        await asyncio.gather(*(one_key_after_another(k) for k in keys))
        # One request of several traces: split over the producers, acknowledged together.
        await bus.publish([message(topic, k, b"5") for k in keys])
    finally:
        await bus.stop()

    by_key: dict[bytes, list[bytes]] = defaultdict(list)
    for key, value in await everything_in(services, topic):
        by_key[key].append(value)
    assert by_key == {k: [b"0", b"1", b"2", b"3", b"4", b"5"] for k in keys}


async def test_a_key_always_goes_through_the_same_producer_and_all_are_used(
    services: DevServices,
) -> None:
    bus = bus_on(services, producers=4)
    keys = [f"{uuid.uuid4()}:{uuid.uuid4().hex}".encode() for _ in range(200)]
    assert [bus._index(k) for k in keys] == [bus._index(k) for k in keys]
    assert {bus._index(k) for k in keys} == {0, 1, 2, 3}
