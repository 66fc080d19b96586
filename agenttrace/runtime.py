"""Builds the shared parts of a process from its settings: the database engine, the bus
and the live fan-out. This is the one place that chooses embedded or real services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from access.rate_limits import RateLimiter
from agenttrace.settings import Settings
from cache.store import Cache, MemoryCache, NullCache, RedisCache
from messaging.bus import Bus, BusUnavailable
from messaging.embedded_bus import EmbeddedBus
from messaging.kafka_bus import KafkaBus
from messaging.live_events import LiveEvents
from storage.database import create_engine
from storage.db_metrics import instrument_engine

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    query_engine: AsyncEngine
    """For API reads: its statement timeout bounds every query a client can send."""
    bus: Bus
    live: LiveEvents
    cache: Cache
    rate_limiter: RateLimiter


def make_bus(settings: Settings, engine: AsyncEngine) -> Bus:
    if settings.kafka_bootstrap_servers is None:
        return EmbeddedBus(engine)
    return KafkaBus(
        settings.kafka_bootstrap_servers,
        partitions=settings.kafka_partitions,
        replication_factor=settings.kafka_replication_factor,
        compression=settings.kafka_compression,
        linger_ms=settings.kafka_linger_ms,
        publish_timeout_s=settings.publish_timeout_s,
    )


def make_cache(settings: Settings, *, worker_in_process: bool) -> Cache:
    """Redis when configured. Otherwise memory, but only where this process's own worker
    does the writes and can invalidate it (``serve``): an API whose workers run
    elsewhere would never hear of their writes, so it does not cache at all."""
    if settings.redis_url is not None:
        return RedisCache(settings.redis_url, stale_ttl_s=settings.cache_stale_ttl_s)
    if worker_in_process:
        return MemoryCache(stale_ttl_s=settings.cache_stale_ttl_s)
    return NullCache()


def make_rate_limiter(settings: Settings) -> RateLimiter:
    """Redis when configured, so every replica counts the same hits; else this process's
    memory, which is the whole count for ``serve`` (and per replica for a split deployment
    without Redis)."""
    if settings.redis_url is not None:
        return RateLimiter.in_redis(settings.redis_url)
    return RateLimiter.in_memory()


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    database_url: str,
    *,
    need_bus: bool = True,
    need_live: bool = True,
    worker_in_process: bool = False,
) -> AsyncIterator[Runtime]:
    engine = create_engine(database_url, pool_size=settings.db_pool_size)
    query_engine = create_engine(
        database_url,
        pool_size=settings.db_pool_size,
        statement_timeout_ms=settings.query_statement_timeout_ms,
    )
    instrument_engine(engine, "write")
    instrument_engine(query_engine, "query")
    bus = make_bus(settings, engine)
    live = LiveEvents(settings.redis_url, subscriber_buffer=settings.live_subscriber_buffer)
    cache = make_cache(settings, worker_in_process=worker_in_process)
    rate_limiter = make_rate_limiter(settings)
    try:
        if need_live:
            await live.start()
        if need_bus:
            try:
                await bus.start()
            except BusUnavailable as exc:
                # Ingest answers 503 and workers retry until the bus is back; no restart needed.
                log.warning("bus.unavailable_at_start", error=str(exc))
        yield Runtime(settings, engine, query_engine, bus, live, cache, rate_limiter)
    finally:
        if need_bus:
            await bus.stop()
        if need_live:
            await live.stop()
        await cache.close()
        await rate_limiter.close()
        await engine.dispose()
        await query_engine.dispose()
