"""Live fan-out: the storage worker publishes, API replicas' subscriptions listen.

One interface over broadcaster, with two backends: Redis pub/sub in distributed mode
(``AGENTTRACE_REDIS_URL``; see messaging/redis_pubsub.py) and in-process memory in
embedded ``serve``.

A process holds one broadcaster subscription per channel however many local subscribers
(GraphQL subscriptions, say) it has, and a pump task that decodes each message once and
copies it into every local subscriber's bounded buffer. Broadcaster alone would give each
subscriber an unbounded queue, so one client that stops reading would grow the process's
memory without limit; here that client loses its subscription instead (SubscriberLagged)
and nobody else notices.
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from broadcaster import Broadcast
from broadcaster._base import Subscriber, Unsubscribed
from prometheus_client import Counter, Gauge
from redis.exceptions import RedisError

from agenttrace.errors import Unavailable
from messaging.redis_pubsub import GAP, RedisPubSubBackend

log = structlog.get_logger(__name__)

DEFAULT_SUBSCRIBER_BUFFER = 1000

EVENTS_DROPPED = Counter(
    "agenttrace_live_events_dropped_total",
    "Live events a local subscriber did not get because it fell too far behind.",
)
SUBSCRIBERS_LAGGED = Counter(
    "agenttrace_live_subscribers_lagged_total",
    "Local live subscribers cut off for falling more than their buffer behind.",
)
SUBSCRIBERS = Gauge("agenttrace_live_subscribers", "Open local live subscribers.")


def project_channel(project_id: uuid.UUID) -> str:
    """The pub/sub channel carrying one project's live trace events."""
    return f"agenttrace:live:project:{project_id}"


class SubscriberLagged(Exception):
    """The subscriber missed events, so whatever it built from them may be stale: it fell
    too far behind, or the connection to Redis dropped for a while."""


class _State(enum.Enum):
    OPEN = enum.auto()
    LAGGED = enum.auto()
    CLOSED = enum.auto()


class _Subscriber:
    """One local subscriber: a bounded buffer the pump fills and the iterator drains."""

    __slots__ = ("_buffer", "_lagged_because", "_limit", "_state", "_wakeup")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._buffer: deque[dict[str, Any]] = deque()
        self._state = _State.OPEN
        self._lagged_because = ""
        self._wakeup = asyncio.Event()

    def offer(self, event: dict[str, Any]) -> None:
        """Never blocks: the pump serves every subscriber of the channel in turn."""
        if self._state is _State.LAGGED:
            EVENTS_DROPPED.inc()
            return
        if self._state is _State.CLOSED:
            return
        if len(self._buffer) >= self._limit:
            EVENTS_DROPPED.inc(len(self._buffer) + 1)
            SUBSCRIBERS_LAGGED.inc()
            self.cut_off(f"live subscriber fell more than {self._limit} events behind")
            return
        self._buffer.append(event)
        self._wakeup.set()

    def cut_off(self, reason: str) -> None:
        if self._state is _State.OPEN:
            # A gap in the stream cannot be repaired here, so keeping the older events
            # would only hand the reader a view it cannot trust; free the memory now.
            self._state = _State.LAGGED
            self._lagged_because = f"{reason}; resubscribe and re-query to resync"
            self._buffer.clear()
            self._wakeup.set()

    def close(self) -> None:
        if self._state is _State.OPEN:
            self._state = _State.CLOSED
            self._buffer.clear()
            self._wakeup.set()

    def __aiter__(self) -> _Subscriber:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while not self._buffer:
            if self._state is _State.LAGGED:
                raise SubscriberLagged(self._lagged_because)
            if self._state is _State.CLOSED:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._buffer.popleft()


@dataclass(eq=False, slots=True)
class _Channel:
    """The process's one upstream subscription to a channel, shared by its local subscribers."""

    name: str
    subscribers: set[_Subscriber] = field(default_factory=set)
    upstream: AsyncExitStack = field(default_factory=AsyncExitStack)
    opened: asyncio.Task[None] | None = None
    pump: asyncio.Task[None] | None = None


class LiveEvents:
    def __init__(
        self, redis_url: str | None, *, subscriber_buffer: int = DEFAULT_SUBSCRIBER_BUFFER
    ) -> None:
        if subscriber_buffer < 1:
            raise ValueError("subscriber_buffer must be at least 1")
        self._broadcast = (
            Broadcast("memory://")
            if not redis_url
            else Broadcast(backend=RedisPubSubBackend(redis_url))
        )
        self._subscriber_buffer = subscriber_buffer
        # A channel is in here from its first local subscriber until its last one leaves
        # (or stop()); whoever removes it owns closing its upstream subscription.
        self._channels: dict[str, _Channel] = {}
        self._closing: set[asyncio.Task[None]] = set()
        # Broadcaster registers a channel only after awaiting the backend, so a subscribe
        # racing an unsubscribe of the same channel can lose a queue or the subscription.
        self._upstream_lock = asyncio.Lock()
        self._running = False

    async def start(self) -> None:
        await self._broadcast.connect()
        self._running = True

    async def stop(self) -> None:
        """Ends every open subscriber iterator (``async for`` finishes normally) and closes
        the upstream subscriptions. Events still buffered are discarded."""
        if not self._running:
            return
        self._running = False
        channels = list(self._channels.values())
        self._channels.clear()
        for channel in channels:
            for subscriber in channel.subscribers:
                subscriber.close()
        await asyncio.gather(*(self._close(c) for c in channels), *self._closing)
        try:
            await self._broadcast.disconnect()
        except Exception as exc:  # noqa: BLE001
            # Broadcaster re-raises here whatever killed its reader (Redis went away):
            # news for a log, not a reason to cut short the rest of a shutdown.
            log.warning("live.disconnect_failed", error=repr(exc))

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        await self._broadcast.publish(channel, orjson.dumps(event).decode())

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Yields an iterator of the channel's events published from now on.

        The iterator raises SubscriberLagged if its reader falls more than
        ``subscriber_buffer`` events behind or events were lost upstream (Redis was
        unreachable for a while), and ends when stop() is called. An event
        dict is shared by all local subscribers of the channel: treat it as read-only.
        """
        if not self._running:
            raise RuntimeError("LiveEvents.subscribe() needs start() first, and not stop()")
        state = self._channels.get(channel)
        if state is None:
            state = self._channels[channel] = _Channel(channel)
            state.opened = asyncio.create_task(self._open(state), name=f"live-open {channel}")
        assert state.opened is not None
        subscriber = _Subscriber(self._subscriber_buffer)
        state.subscribers.add(subscriber)
        SUBSCRIBERS.inc()
        try:
            # Shielded: the opening is shared, and one subscriber giving up while it is
            # under way must not cancel it for the others.
            await asyncio.shield(state.opened)
            yield subscriber
        finally:
            subscriber.close()
            SUBSCRIBERS.dec()
            state.subscribers.discard(subscriber)
            if not state.subscribers and self._channels.get(channel) is state:
                del self._channels[channel]
                closing = asyncio.create_task(self._close(state), name=f"live-close {channel}")
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
                # Shielded: the leaving subscriber is often being cancelled (its client
                # hung up), and an unsubscribe cut short would leak the upstream
                # subscription; stop() waits for whatever is still closing.
                await asyncio.shield(closing)

    async def _open(self, channel: _Channel) -> None:
        async with self._upstream_lock:
            try:
                upstream = await channel.upstream.enter_async_context(
                    self._broadcast.subscribe(channel.name)
                )
            except (RedisError, OSError, KeyError) as exc:
                # Redis refused or dropped the subscribe (broadcaster then hides that
                # behind a KeyError of its own bookkeeping): the subscriber may retry.
                log.warning("live.subscribe_failed", channel=channel.name, error=repr(exc))
                raise Unavailable(
                    "live updates are unavailable right now (Redis is unreachable);"
                    " subscribe again in a few seconds"
                ) from None
        channel.pump = asyncio.create_task(
            self._pump(channel, upstream), name=f"live-pump {channel.name}"
        )

    async def _pump(self, channel: _Channel, upstream: Subscriber) -> None:
        while True:
            try:
                message = await upstream.get()
            except Unsubscribed:
                return
            if message.message == GAP:
                for subscriber in channel.subscribers:
                    subscriber.cut_off("live events were lost while Redis was unreachable")
                continue
            try:
                event = orjson.loads(message.message)
            except orjson.JSONDecodeError:
                event = None
            if not isinstance(event, dict):
                log.warning("live.undecodable_event", channel=channel.name)
                continue
            log.debug(
                "live.event",
                channel=channel.name,
                trace_id=event.get("trace_id"),
                correlation_ids=event.get("correlation_ids"),
                subscribers=len(channel.subscribers),
            )
            for subscriber in channel.subscribers:
                subscriber.offer(event)

    async def _close(self, channel: _Channel) -> None:
        """Never raises: it runs detached from any subscriber that could be told."""
        assert channel.opened is not None
        await asyncio.wait([channel.opened])
        if channel.opened.cancelled() or channel.opened.exception() is not None:
            return  # nothing was opened; the subscribers got the error
        if channel.pump is not None:
            channel.pump.cancel()
            await asyncio.wait([channel.pump])
            if not channel.pump.cancelled() and channel.pump.exception() is not None:
                log.error(
                    "live.pump_failed", channel=channel.name, error=repr(channel.pump.exception())
                )
        try:
            async with self._upstream_lock:
                await channel.upstream.aclose()
        except Exception as exc:  # noqa: BLE001  a failed unsubscribe is only a log line
            log.warning("live.unsubscribe_failed", channel=channel.name, error=repr(exc))
