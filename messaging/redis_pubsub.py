"""Redis pub/sub as a broadcaster backend.

broadcaster 0.3.1 ships one, but with redis-py 8 its reader task wakes on the first
SUBSCRIBE before redis-py has recorded the subscription, finds none, and goes back to
sleep until the next SUBSCRIBE: a process's first subscriber never receives anything.
It also lets a dropped connection kill the reader, after which nothing is received
until restart. This one reads the pub/sub connection from connect() on, subscribed or
not, and reads on through reconnections, reporting each as a GAP event per channel.

subscribe() returns once Redis has confirmed the subscription, so whatever is published
after it returns is received: a subscriber can subscribe, then read the database, and
miss nothing in between.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import structlog
from broadcaster import BroadcastBackend, Event
from redis.exceptions import RedisError

from messaging.redis_connections import redis_client

log = structlog.get_logger(__name__)

# The message of the event that says "what was published on this channel while the
# connection was down is lost". Not JSON, so it can never be mistaken for an event.
GAP = "agenttrace:live:gap"

RETRY_MIN_S = 0.1
RETRY_MAX_S = 5.0
# Past this, subscribe() returns unconfirmed rather than hold up every other channel's
# subscribe; a connection lost meanwhile is reported as a GAP once it is back.
CONFIRM_TIMEOUT_S = 10.0


class RedisPubSubBackend(BroadcastBackend):
    def __init__(self, url: str) -> None:
        # Not super().__init__: BroadcastBackend's only raises NotImplementedError.
        self._redis = redis_client(url)
        self._pubsub = self._redis.pubsub()
        self._ready: deque[Event] = deque()
        self._unconfirmed: dict[str, list[asyncio.Future[None]]] = {}
        self._reader: asyncio.Task[Any] | None = None
        self._reconnected = False

    async def connect(self) -> None:
        # The reader needs a connection before the first subscribe, and an unreachable
        # Redis should fail start() rather than the first subscriber.
        await self._pubsub.connect()  # type: ignore[no-untyped-call]
        assert self._pubsub.connection is not None
        # Registered after the first connect, so it hears only reconnections, however
        # they happen: redis-py also reconnects by itself, inside a read that then
        # simply returns the next message.
        self._pubsub.connection.register_connect_callback(self._on_reconnect)
        await self._redis.ping()

    def _on_reconnect(self, connection: Any) -> None:
        self._reconnected = True

    async def disconnect(self) -> None:
        if self._reader is not None:
            # Broadcaster cancels its reader without waiting for it; closing the
            # connection under a read still unwinding (redis-py may be mid-reconnect)
            # would fail inside that task, where nobody looks.
            self._reader.cancel()
            await asyncio.wait([self._reader])
            if not self._reader.cancelled() and self._reader.exception() is not None:
                log.warning("live.redis_reader_failed", error=repr(self._reader.exception()))
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()

    async def subscribe(self, channel: str) -> None:
        confirmed = asyncio.get_running_loop().create_future()
        waiting = self._unconfirmed.setdefault(channel, [])
        waiting.append(confirmed)
        try:
            await self._pubsub.subscribe(channel)
            await asyncio.wait_for(confirmed, CONFIRM_TIMEOUT_S)
        except TimeoutError:
            log.warning("live.redis_subscribe_unconfirmed", channel=channel)
        finally:
            waiting.remove(confirmed)
            if not waiting:
                del self._unconfirmed[channel]

    async def unsubscribe(self, channel: str) -> None:
        await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self._redis.publish(channel, message)

    async def next_published(self) -> Event:
        self._reader = asyncio.current_task()
        retry_in_s = RETRY_MIN_S
        while not self._ready:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except (RedisError, OSError) as exc:
                # The next read reconnects, and redis-py resubscribes every channel.
                log.warning("live.redis_connection_lost", error=repr(exc), retry_in_s=retry_in_s)
                await asyncio.sleep(retry_in_s)
                retry_in_s = min(retry_in_s * 2, RETRY_MAX_S)
                continue
            retry_in_s = RETRY_MIN_S
            if self._reconnected:
                log.info("live.redis_reconnected")
                self._reconnected = False
                self._ready.extend(
                    Event(channel=_text(channel), message=GAP) for channel in self._pubsub.channels
                )
            if message is None:
                continue
            if message["type"] == "message":
                self._ready.append(
                    Event(channel=_text(message["channel"]), message=_text(message["data"]))
                )
            elif message["type"] == "subscribe":
                for confirmed in self._unconfirmed.get(_text(message["channel"]), []):
                    if not confirmed.done():
                        confirmed.set_result(None)
        return self._ready.popleft()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
