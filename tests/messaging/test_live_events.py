"""The live fan-out hub, on real Redis pub/sub and on the in-process memory backend."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis import asyncio as redis
from structlog.testing import capture_logs

from devservices import DevServices
from messaging.live_events import LiveEvents, SubscriberLagged

Event = dict[str, Any]


@pytest.fixture(params=["memory", "redis"])
def url(request: pytest.FixtureRequest) -> str | None:
    """The backend: None is the in-process memory one of embedded ``serve``."""
    if request.param == "memory":
        return None
    redis_url: str = request.getfixturevalue("services").redis_url
    return redis_url


@pytest.fixture
async def live(url: str | None) -> AsyncIterator[LiveEvents]:
    events = LiveEvents(url)
    await events.start()
    yield events
    await events.stop()


def new_channel() -> str:
    return f"agenttrace:test:{uuid.uuid4()}"


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def eventually(condition: Callable[[], bool], what: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.005)


async def until_count(events: list[Event], count: int) -> None:
    await eventually(lambda: len(events) >= count, f"{count} events arrived")


async def redis_subscriptions(url: str | None, channel: str) -> int:
    """How many connections Redis itself has subscribed to ``channel``."""
    assert url is not None
    client = redis.Redis.from_url(url)
    try:
        [(_, count)] = await client.pubsub_numsub(channel)
        return int(count)
    finally:
        await client.aclose()


async def until_redis_subscriptions(url: str | None, channel: str, expected: int) -> None:
    """Waits until Redis counts ``expected`` subscriptions: LiveEvents waits for Redis to
    confirm a SUBSCRIBE, but an UNSUBSCRIBE takes effect some time after it is sent."""
    if url is None:
        return  # the memory backend (un)subscribes synchronously
    deadline = time.monotonic() + 10
    while (count := await redis_subscriptions(url, channel)) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"Redis has {count} subscriptions to {channel}, not {expected}")
        await asyncio.sleep(0.01)


async def test_a_subscriber_receives_published_events_in_order(
    live: LiveEvents, url: str | None
) -> None:
    channel = new_channel()
    async with live.subscribe(channel) as events:
        await until_redis_subscriptions(url, channel, 1)
        for n in range(20):
            await live.publish(channel, {"n": n, "nested": {"tags": ["a", "b"]}})
        received = [await asyncio.wait_for(anext(events), 5) for _ in range(20)]
    assert received == [{"n": n, "nested": {"tags": ["a", "b"]}} for n in range(20)]


async def test_a_subscriber_on_one_replica_receives_what_another_publishes(
    services: Any,
) -> None:
    publisher, listener = LiveEvents(services.redis_url), LiveEvents(services.redis_url)
    await publisher.start()
    await listener.start()
    try:
        for n in range(50):
            channel = new_channel()
            async with listener.subscribe(channel) as events:
                # No waiting for Redis here: once subscribe() has returned, nothing
                # published can be missed (what "subscribe, then query" relies on).
                await publisher.publish(channel, {"type": "trace.updated", "n": n})
                event = await asyncio.wait_for(anext(events), 5)
            assert event == {"type": "trace.updated", "n": n}
    finally:
        await listener.stop()
        await publisher.stop()


async def test_subscribers_only_get_their_own_channel(live: LiveEvents, url: str | None) -> None:
    first, second = new_channel(), new_channel()
    async with live.subscribe(first) as a, live.subscribe(second) as b:
        await until_redis_subscriptions(url, first, 1)
        await until_redis_subscriptions(url, second, 1)
        await live.publish(first, {"to": "first"})
        await live.publish(second, {"to": "second"})
        assert await asyncio.wait_for(anext(a), 5) == {"to": "first"}
        assert await asyncio.wait_for(anext(b), 5) == {"to": "second"}


async def test_local_subscribers_share_one_upstream_subscription(
    live: LiveEvents, url: str | None
) -> None:
    channel = new_channel()
    async with AsyncExitStack() as stack:
        subscribers = [await stack.enter_async_context(live.subscribe(channel)) for _ in range(3)]
        assert len(live._broadcast._subscribers[channel]) == 1
        if url is not None:
            await until_redis_subscriptions(url, channel, 1)
        await live.publish(channel, {"n": 1})
        for events in subscribers:
            assert await asyncio.wait_for(anext(events), 5) == {"n": 1}


async def test_slow_subscriber_does_not_stall_others(live: LiveEvents, url: str | None) -> None:
    total, chunk = 5000, 250  # a chunk fits well inside the fast reader's 1000-event buffer
    channel = new_channel()
    dropped, lagged = (
        metric("agenttrace_live_events_dropped_total"),
        metric("agenttrace_live_subscribers_lagged_total"),
    )
    received: list[Event] = []

    async def read(events: AsyncIterator[Event]) -> None:
        async for event in events:
            received.append(event)
            if len(received) == total:
                return

    async with live.subscribe(channel) as slow, live.subscribe(channel) as fast:
        await until_redis_subscriptions(url, channel, 1)
        reader = asyncio.create_task(read(fast))
        for published in range(chunk, total + 1, chunk):
            for n in range(published - chunk, published):
                await live.publish(channel, {"n": n})
            await until_count(received, published)
        await asyncio.wait_for(reader, 5)
        with pytest.raises(SubscriberLagged, match="more than 1000 events behind; resubscribe"):
            await anext(slow)
        with pytest.raises(SubscriberLagged):
            await anext(slow)  # it stays cut off: nothing after the gap can be trusted

    assert [e["n"] for e in received] == list(range(total))
    # The slow one got none of them: 1000 buffered then dropped, and every one after.
    assert metric("agenttrace_live_events_dropped_total") - dropped == total
    assert metric("agenttrace_live_subscribers_lagged_total") - lagged == 1


async def test_a_lagged_subscriber_first_loses_what_it_had_buffered(url: str | None) -> None:
    live = LiveEvents(url, subscriber_buffer=3)
    await live.start()
    try:
        channel = new_channel()
        async with live.subscribe(channel) as events:
            await until_redis_subscriptions(url, channel, 1)
            for n in range(3):
                await live.publish(channel, {"n": n})
            assert await asyncio.wait_for(anext(events), 5) == {"n": 0}
            lagged = metric("agenttrace_live_subscribers_lagged_total")
            for n in range(3, 6):  # 1, 2 and 3 fill the buffer; 4 overflows it
                await live.publish(channel, {"n": n})
            await eventually(
                lambda: metric("agenttrace_live_subscribers_lagged_total") == lagged + 1,
                "the subscriber is cut off",
            )
            with pytest.raises(SubscriberLagged, match="more than 3 events behind"):
                await asyncio.wait_for(anext(events), 5)
    finally:
        await live.stop()


async def test_last_subscriber_leaving_closes_the_upstream_subscription(
    live: LiveEvents, url: str | None
) -> None:
    channel = new_channel()
    open_subscribers = metric("agenttrace_live_subscribers")
    async with live.subscribe(channel):
        async with live.subscribe(channel):
            assert metric("agenttrace_live_subscribers") == open_subscribers + 2
            await until_redis_subscriptions(url, channel, 1)
        assert channel in live._channels
        assert channel in live._broadcast._subscribers
    assert metric("agenttrace_live_subscribers") == open_subscribers
    assert live._channels == {}
    assert channel not in live._broadcast._subscribers
    await until_redis_subscriptions(url, channel, 0)

    # And the channel can be subscribed to again, on a fresh upstream subscription.
    async with live.subscribe(channel) as events:
        await until_redis_subscriptions(url, channel, 1)
        await live.publish(channel, {"again": True})
        assert await asyncio.wait_for(anext(events), 5) == {"again": True}
    assert live._channels == {}


async def test_a_cancelled_reader_leaves_no_subscription_behind(
    live: LiveEvents, url: str | None
) -> None:
    channel = new_channel()
    entered = asyncio.Event()

    async def client() -> None:
        async with live.subscribe(channel) as events:
            entered.set()
            async for _ in events:
                pass

    task = asyncio.create_task(client())
    await asyncio.wait_for(entered.wait(), 5)
    await until_redis_subscriptions(url, channel, 1)
    task.cancel()  # the way a GraphQL server drops a subscription whose client hung up
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: not live._closing, "the upstream subscription is closed")
    assert live._channels == {}
    assert channel not in live._broadcast._subscribers
    await until_redis_subscriptions(url, channel, 0)


async def test_stop_ends_open_iterators(live: LiveEvents, url: str | None) -> None:
    channels = [new_channel(), new_channel()]
    open_subscribers = metric("agenttrace_live_subscribers")

    read: dict[int, list[Event]] = {}

    async def read_all(events: AsyncIterator[Event]) -> list[Event]:
        got = read.setdefault(id(events), [])
        async for event in events:
            got.append(event)
        return got

    def delivered(events: AsyncIterator[Event]) -> bool:
        return bool(read.get(id(events)))

    async with AsyncExitStack() as stack:
        iterators = [
            await stack.enter_async_context(live.subscribe(channel))
            for channel in channels + channels
        ]
        for channel in channels:
            await until_redis_subscriptions(url, channel, 1)
        await live.publish(channels[0], {"before": "stop"})
        readers = [asyncio.create_task(read_all(events)) for events in iterators]
        # Until the event is through, stop() could discard it from a buffer.
        await eventually(lambda: delivered(iterators[0]) and delivered(iterators[2]), "delivery")
        await live.stop()
        results = await asyncio.wait_for(asyncio.gather(*readers), 5)
    # Leaving the `async with` blocks after stop() touched no closed connection.
    assert results == [[{"before": "stop"}], [], [{"before": "stop"}], []]
    assert metric("agenttrace_live_subscribers") == open_subscribers
    assert live._channels == {}
    with pytest.raises(RuntimeError, match="start"):
        async with live.subscribe(channels[0]):
            pass


def test_a_buffer_must_hold_at_least_one_event() -> None:
    with pytest.raises(ValueError, match="subscriber_buffer"):
        LiveEvents(None, subscriber_buffer=0)


async def test_a_dropped_redis_connection_cuts_subscribers_off_and_then_recovers() -> None:
    with DevServices(kafka=False, postgres=False) as own:  # killing connections is not for sharing
        live = LiveEvents(own.redis_url)
        await live.start()
        channel = new_channel()
        client = redis.Redis.from_url(own.redis_url)
        try:
            async with live.subscribe(channel) as before:
                await until_redis_subscriptions(own.redis_url, channel, 1)
                await client.client_kill_filter(_type="pubsub")
                # What was published while it was down is lost, so it has to resync.
                with pytest.raises(SubscriberLagged, match="lost while Redis was unreachable"):
                    await asyncio.wait_for(anext(before), 10)
                await until_redis_subscriptions(own.redis_url, channel, 1)
                async with live.subscribe(channel) as after:
                    await live.publish(channel, {"after": "reconnect"})
                    assert await asyncio.wait_for(anext(after), 5) == {"after": "reconnect"}
                    reader = asyncio.create_task(anext(after, None))
                    await live.stop()
                    assert await asyncio.wait_for(reader, 5) is None
        finally:
            await client.aclose()
            await live.stop()


async def test_each_event_is_logged_at_debug_with_the_requests_behind_it() -> None:
    """The correlation ids the worker puts in an event reach the api's log (at DEBUG)."""
    live = LiveEvents(None)
    await live.start()
    try:
        async with live.subscribe("project:x") as subscriber:
            with capture_logs() as logs:
                await live.publish("project:x", {"trace_id": "t1", "correlation_ids": ["req-1"]})
                await asyncio.wait_for(anext(subscriber), 5)
        [line] = [entry for entry in logs if entry["event"] == "live.event"]
        assert line["correlation_ids"] == ["req-1"]
        assert line["trace_id"] == "t1"
        assert line["log_level"] == "debug"
    finally:
        await live.stop()
