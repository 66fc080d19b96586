"""The read cache, on real Redis and in memory: hits, misses, and no stale value after
a write, even when a read raced the write."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from cache.store import Cache, MemoryCache, RedisCache
from devservices import DevServices


@pytest.fixture(params=["redis", "memory"])
async def cache(request: pytest.FixtureRequest, services: DevServices) -> AsyncIterator[Cache]:
    store: Cache = RedisCache(services.redis_url) if request.param == "redis" else MemoryCache()
    yield store
    await store.close()


def _lookups(kind: str, result: str) -> float:
    value = REGISTRY.get_sample_value(
        "agenttrace_cache_lookups_total", {"cache": kind, "result": result}
    )
    return value or 0.0


def _key() -> str:
    return f"trace:test:{uuid.uuid4().hex}"


async def test_a_cached_value_is_a_hit_and_counted(cache: Cache) -> None:
    key = _key()
    misses, hits = _lookups("t", "miss"), _lookups("t", "hit")
    assert await cache.get("t", key) is None
    await cache.add(key, b'{"v": 1}', ttl_s=30)
    assert await cache.get("t", key) == b'{"v": 1}'
    assert _lookups("t", "miss") == misses + 1
    assert _lookups("t", "hit") == hits + 1


async def test_a_read_that_raced_a_write_cannot_cache_the_old_value(cache: Cache) -> None:
    key = _key()
    assert await cache.get("t", key) is None  # a reader misses and reads the database...
    await cache.invalidate([key])  # ...a writer commits a change meanwhile...
    await cache.add(key, b'{"old": true}', ttl_s=30)  # ...and the reader's add is refused
    assert await cache.get("t", key) is None


async def test_invalidating_replaces_a_cached_value(cache: Cache) -> None:
    key = _key()
    await cache.add(key, b'{"v": 1}', ttl_s=30)
    await cache.invalidate([key])
    assert await cache.get("t", key) is None


async def test_values_expire(cache: Cache) -> None:
    key = _key()
    await cache.add(key, b'{"v": 1}', ttl_s=0.05)
    await asyncio.sleep(0.2)
    assert await cache.get("t", key) is None


async def test_memory_cache_is_bounded() -> None:
    cache = MemoryCache(max_entries=10)
    for n in range(100):
        await cache.add(f"k{n}", b"{}", ttl_s=30)
    assert await cache.get("t", "k0") is None
    assert await cache.get("t", "k99") == b"{}"


async def test_get_many_answers_each_key_in_order(cache: Cache) -> None:
    cached, stale, absent = _key(), _key(), _key()
    await cache.add(cached, b'{"v": 1}', ttl_s=30)
    await cache.invalidate([stale])
    hits = _lookups("t", "hit")
    assert await cache.get_many("t", [cached, stale, absent]) == [b'{"v": 1}', None, None]
    assert _lookups("t", "hit") == hits + 1


@pytest.fixture(params=["redis", "memory"])
async def short_stale_cache(
    request: pytest.FixtureRequest, services: DevServices
) -> AsyncIterator[Cache]:
    store: Cache = (
        RedisCache(services.redis_url, stale_ttl_s=0.2)
        if request.param == "redis"
        else MemoryCache(stale_ttl_s=0.2)
    )
    yield store
    await store.close()


async def test_a_generation_lasts_until_its_key_is_invalidated(cache: Cache) -> None:
    key = _key()
    first = await cache.generation(key, ttl_s=30)
    assert first is not None
    assert await cache.generation(key, ttl_s=30) == first
    await cache.invalidate([key])
    assert await cache.generation(key, ttl_s=30) is None  # nothing is cached while stale


async def test_what_a_raced_read_cached_under_an_ended_generation_is_never_found(
    short_stale_cache: Cache,
) -> None:
    cache, key = short_stale_cache, _key()
    before = await cache.generation(key, ttl_s=30)  # a reader begins, then reads the database
    await cache.invalidate([key])  # a writer commits and invalidates meanwhile
    await cache.add(f"{key}:{before}", b'{"old": true}', ttl_s=30)  # the reader caches
    await asyncio.sleep(0.3)  # even once the stale mark is gone...
    after = await cache.generation(key, ttl_s=30)
    assert after is not None
    assert after != before  # ...readers look in a new generation
    assert await cache.get("t", f"{key}:{after}") is None
