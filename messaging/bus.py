"""The queue between ingest and the workers.

Two implementations share this interface: :mod:`messaging.kafka_bus` (Apache Kafka) and
:mod:`messaging.embedded_bus` (durable, in-process, for the single-machine ``serve``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

Headers = tuple[tuple[str, bytes], ...]


class BusUnavailable(Exception):
    """The bus could not acknowledge a publish; the caller must not report success."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    topic: str
    key: bytes
    value: bytes
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers = field(default=())

    def header(self, name: str) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


class BusConsumer(Protocol):
    """One member of a consumer group on one topic."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def fetch(self, max_messages: int, timeout_ms: int) -> list[ReceivedMessage]:
        """Up to ``max_messages`` messages; waits at most ``timeout_ms`` for the first one."""
        ...

    async def commit(self, messages: Sequence[ReceivedMessage]) -> None:
        """Marks ``messages`` (and everything before them in their partitions) as done."""
        ...


class Bus(Protocol):
    async def start(self) -> None:
        """Connects; creates missing topics. May raise BusUnavailable."""
        ...

    async def stop(self) -> None: ...

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Returns once every message is durably acknowledged; raises BusUnavailable otherwise.

        A publish that raised may still have stored some messages: consumers must be
        idempotent, and they are.
        """
        ...

    def consumer(self, topic: str, group: str) -> BusConsumer: ...

    async def ping(self) -> bool:
        """True when the bus can currently accept publishes."""
        ...
