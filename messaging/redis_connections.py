"""Redis clients made one way for every use (live fan-out, cache, rate limits).

redis-py 8 announces itself with ``CLIENT SETINFO`` on every connection. Redis before 7.2
(Debian 12 ships 7.0) answers that with an error, which redis-py raises when it
reconnects a pub/sub connection after an outage, so live updates never came back once
Redis had been restarted. The announcement is only a label in ``CLIENT LIST``: skip it.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as redis

NO_SETINFO: dict[str, Any] = {"driver_info": None}  # None: send no CLIENT SETINFO


def redis_client(url: str, **options: Any) -> redis.Redis:
    return redis.Redis.from_url(url, **NO_SETINFO, **options)


def redis_pool(url: str, **options: Any) -> redis.ConnectionPool:
    return redis.ConnectionPool.from_url(url, **NO_SETINFO, **options)
