"""Live fan-out: the storage worker publishes, API replicas' subscriptions listen.

One interface over broadcaster, which gives the two implementations: Redis pub/sub in
distributed mode (``AGENTTRACE_REDIS_URL``) and in-process memory in embedded ``serve``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from broadcaster import Broadcast
from broadcaster._base import Unsubscribed


def project_channel(project_id: uuid.UUID) -> str:
    """The pub/sub channel carrying one project's live trace events."""
    return f"agenttrace:live:project:{project_id}"


class LiveEvents:
    def __init__(self, redis_url: str | None) -> None:
        self._broadcast = Broadcast(redis_url or "memory://")

    async def start(self) -> None:
        await self._broadcast.connect()

    async def stop(self) -> None:
        await self._broadcast.disconnect()

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        await self._broadcast.publish(channel, orjson.dumps(event).decode())

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        async with self._broadcast.subscribe(channel) as subscriber:

            async def events() -> AsyncIterator[dict[str, Any]]:
                while True:
                    try:
                        event = await subscriber.get()
                    except Unsubscribed:
                        return
                    yield orjson.loads(event.message)

            yield events()
