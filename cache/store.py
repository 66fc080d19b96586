"""A cache-aside store that writers can invalidate without races.

The classic "read the database, then SET" loses to a writer that commits and deletes
the key in between: the reader then caches the old value. Here a writer does not delete
a key, it *marks it stale* for ``stale_ttl_s`` (longer than any read can take: the API's
statement timeout is well below it), and readers only ever add a key that is absent
(SET NX). A read that started before the write therefore cannot cache what it read;
a hot trace is simply not cached until it has been quiet for a while.

Some values depend on a key's data without being its value (GraphQL responses read
from one trace: many documents, one trace). Those are cached under the key's
*generation*, a random token kept beside the key (``generation_key``) and read before
the database: invalidating the key marks its generation stale too, so whatever was
cached under the old token is never looked up again, however the read and the write
interleaved, and nothing is cached while the mark lasts.

RedisCache is shared by every process; MemoryCache is for ``serve``, where the worker
and the API are one process; NullCache is for a split deployment without Redis, where
an API could never learn of a worker's writes.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Protocol, cast

import structlog
from prometheus_client import Counter
from redis.exceptions import RedisError

from cache.keys import generation_key
from messaging.redis_connections import redis_client

log = structlog.get_logger(__name__)

STALE = b"\x00stale"
"""What an invalidated key holds; never a valid cached value (those are JSON)."""

LOOKUPS = Counter(
    "agenttrace_cache_lookups_total",
    "Read-cache lookups by cache and result.",
    ["cache", "result"],
)


class Cache(Protocol):
    async def get(self, kind: str, key: str) -> bytes | None:
        """The cached value, or None (a miss, counted under ``kind``)."""

    async def get_many(self, kind: str, keys: Sequence[str]) -> list[bytes | None]:
        """``get`` for each key, in one round trip."""

    async def add(self, key: str, value: bytes, ttl_s: float) -> None:
        """Caches ``value`` unless the key exists (a value or a stale mark)."""

    async def generation(self, key: str, ttl_s: float) -> str | None:
        """``key``'s current generation, begun now (for ``ttl_s``) if it has none; None
        while ``key`` is marked stale (or the cache is unavailable): cache nothing then."""

    async def invalidate(self, keys: Iterable[str]) -> None:
        """Marks ``keys`` and their generations stale: nothing read before now can be
        cached under them, nor found under the generation it was cached in."""

    async def close(self) -> None: ...


def _new_generation() -> bytes:
    return secrets.token_hex(8).encode()


def _marked(keys: Iterable[str]) -> list[str]:
    return [marked for key in keys for marked in (key, generation_key(key))]


def _count(kind: str, value: bytes | None) -> bytes | None:
    hit = value is not None and value != STALE
    LOOKUPS.labels(kind, "hit" if hit else "miss").inc()
    return value if hit else None


class RedisCache:
    def __init__(self, url: str, *, stale_ttl_s: float = 60.0) -> None:
        self._redis = redis_client(url)
        self._stale_ttl_ms = int(stale_ttl_s * 1000)

    async def get(self, kind: str, key: str) -> bytes | None:
        try:
            value = cast(bytes | None, await self._redis.get(key))
        except RedisError as exc:
            # The cache is an optimisation: without Redis, reads go to PostgreSQL.
            log.warning("cache.unavailable", error=repr(exc))
            value = None
        return _count(kind, value)

    async def get_many(self, kind: str, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        try:
            values = cast(list[bytes | None], await self._redis.mget(keys))
        except RedisError as exc:
            log.warning("cache.unavailable", error=repr(exc))
            values = [None] * len(keys)
        return [_count(kind, value) for value in values]

    async def add(self, key: str, value: bytes, ttl_s: float) -> None:
        try:
            await self._redis.set(key, value, px=int(ttl_s * 1000), nx=True)
        except RedisError as exc:
            log.warning("cache.unavailable", error=repr(exc))

    async def generation(self, key: str, ttl_s: float) -> str | None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.set(generation_key(key), _new_generation(), px=int(ttl_s * 1000), nx=True)
                pipe.get(generation_key(key))
                _, current = await pipe.execute()
        except RedisError as exc:
            log.warning("cache.unavailable", error=repr(exc))
            return None
        return None if current is None or current == STALE else bytes(current).decode()

    async def invalidate(self, keys: Iterable[str]) -> None:
        """Raises RedisError: a writer must not go on as if readers saw its write."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in _marked(keys):
                pipe.set(key, STALE, px=self._stale_ttl_ms)
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()


class MemoryCache:
    """The same semantics in one process, bounded to ``max_entries`` (oldest out)."""

    def __init__(self, *, stale_ttl_s: float = 60.0, max_entries: int = 10_000) -> None:
        self._stale_ttl_s = stale_ttl_s
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def _live(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[key]
            return None
        return entry[1]

    def _put(self, key: str, value: bytes, ttl_s: float) -> None:
        self._entries[key] = (time.monotonic() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def get(self, kind: str, key: str) -> bytes | None:
        return _count(kind, self._live(key))

    async def get_many(self, kind: str, keys: Sequence[str]) -> list[bytes | None]:
        return [_count(kind, self._live(key)) for key in keys]

    async def add(self, key: str, value: bytes, ttl_s: float) -> None:
        if self._live(key) is None:
            self._put(key, value, ttl_s)

    async def generation(self, key: str, ttl_s: float) -> str | None:
        current = self._live(generation_key(key))
        if current is None:
            current = _new_generation()
            self._put(generation_key(key), current, ttl_s)
        return None if current == STALE else current.decode()

    async def invalidate(self, keys: Iterable[str]) -> None:
        for key in _marked(keys):
            self._put(key, STALE, self._stale_ttl_s)

    async def close(self) -> None:
        self._entries.clear()


class NullCache:
    """For processes that cannot learn of writes (no Redis, worker elsewhere)."""

    async def get(self, kind: str, key: str) -> bytes | None:
        return _count(kind, None)

    async def get_many(self, kind: str, keys: Sequence[str]) -> list[bytes | None]:
        return [_count(kind, None) for _ in keys]

    async def add(self, key: str, value: bytes, ttl_s: float) -> None:
        return None

    async def generation(self, key: str, ttl_s: float) -> str | None:
        return None

    async def invalidate(self, keys: Iterable[str]) -> None:
        return None

    async def close(self) -> None:
        return None
