"""Rate limits: how much one caller may do per window, counted in Redis (shared by every
replica) or in process memory (the embedded ``serve``), over the ``limits`` library.

The strategy is limits' sliding window counter: two counters per caller and limit (this
window's and the last one's), the last one weighted by how much of it still overlaps the
sliding window. It is one small Lua script per hit in Redis whatever the cost (a batch
of 500 spans is one INCRBY), needs no per-hit memory, and does not let a caller through
twice the limit at a window's edge as a fixed window does. The moving window would be
exact but keeps one entry per unit of cost (500 list entries for that batch).

When Redis cannot be reached the limiter fails open: the request is let through
unchecked, with a warning in the log, and Redis is not asked again for
``pause_after_failure_s``. A rate limit protects the service from abuse; it must not
become the reason ingest refuses data (or waits on a dead Redis) while everything else
is up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import (
    MemoryStorage,
    MovingWindowSupport,
    RedisStorage,
    SlidingWindowCounterSupport,
    Storage,
)
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from prometheus_client import Counter
from redis import asyncio as redis
from redis.exceptions import RedisError

from messaging.redis_connections import redis_pool

log = structlog.get_logger(__name__)

KEY_PREFIX = "rate_limit"
"""Redis keys: ``rate_limit:{LIMITER/<name>/<identity>/<amount>/<per_s>/second}``."""
REDIS_TIMEOUT_S = 0.5
"""A limit check waits no longer than this on Redis before failing open."""

DECISIONS = Counter(
    "agenttrace_rate_limit_decisions_total",
    "Rate limit checks by limit and result (allowed, refused, unchecked: Redis unavailable).",
    ["limit", "result"],
)


@dataclass(frozen=True, slots=True)
class Limit:
    """``amount`` units (requests, spans, query cost) per ``per_s`` seconds."""

    amount: int
    per_s: int
    item: RateLimitItem = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.amount < 1 or self.per_s < 1:
            raise ValueError(f"a limit needs a positive amount and window, not {self}")
        object.__setattr__(self, "item", RateLimitItemPerSecond(self.amount, self.per_s))

    def __str__(self) -> str:
        unit = {1: "second", 60: "minute", 3600: "hour"}.get(self.per_s, f"{self.per_s} s")
        return f"{self.amount:,} per {unit}"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one check, with what the caller may tell its client."""

    allowed: bool
    limit: int
    remaining: int
    """What is left in the window after this check."""
    reset_after_s: float
    """Seconds until the whole amount is available again."""
    retry_after_s: float
    """When refused: seconds until the same cost would be let through (else 0)."""
    checked: bool = True
    """False when the store was unavailable and the check was skipped (fail open)."""

    @property
    def used_share(self) -> float:
        return 1.0 - self.remaining / self.limit if self.limit else 0.0

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (seconds), and
        ``Retry-After`` (seconds) when refused. None for an unchecked decision: the
        numbers would be made up."""
        if not self.checked:
            return {}
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_after_s)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after_s)))
        return headers


def tightest(decisions: Iterable[Decision | None]) -> Decision | None:
    """Of several checks of one request, the one closest to refusing: the one whose
    headers a client should see."""
    checked = [d for d in decisions if d is not None and d.checked]
    return max(checked, key=lambda d: d.used_share, default=None)


def _unchecked(limit: Limit) -> Decision:
    return Decision(True, limit.amount, limit.amount, 0.0, 0.0, checked=False)


def decide(
    limit: Limit, cost: int, allowed: bool | None, window: tuple[int, float, int, float]
) -> Decision:
    """The decision from the two counters (``allowed`` None: judge it here, charging
    nothing). ``window`` is limits' ``(previous count, seconds until the previous window
    stops counting, current count, seconds until the current window's counter expires,
    which is its end plus one window)``."""
    previous, previous_ttl, current, current_ttl = window
    amount, span = limit.amount, float(limit.per_s)
    used = math.floor(previous * previous_ttl / span) + current  # as limits' Lua counts
    if allowed is None:
        allowed = used + cost <= amount
    window_end = max(0.0, current_ttl - span)
    # Whole again once nothing counted is left in either window.
    reset = window_end + span if current else previous_ttl
    retry = 0.0
    if not allowed:
        room = amount - cost - current
        if room >= 0:
            # The last window's weight decays until the cost fits beside this one's count.
            retry = max(0.0, previous_ttl - room * span / previous) if previous else 0.0
        else:
            # Only once this window is the last one, decaying in turn.
            retry = window_end + max(0.0, span - (amount - cost) * span / current)
    return Decision(allowed, amount, max(0, amount - used), reset, retry)


class RateLimiter:
    """Counts hits per (limit name, identity) in the store it was made with."""

    def __init__(
        self,
        storage: Storage,
        *,
        pool: redis.ConnectionPool | None = None,
        pause_after_failure_s: float = 5.0,
    ) -> None:
        if not isinstance(storage, SlidingWindowCounterSupport):
            raise TypeError(f"{type(storage).__name__} cannot count sliding windows")
        self._storage = storage
        self._windows: SlidingWindowCounterSupport = storage
        self._strategy = SlidingWindowCounterRateLimiter(storage)
        # Exact counting (one entry per hit) for the few small limits where an
        # approximation at a window's edge would be a hole, such as the login lockout.
        self._exact = (
            MovingWindowRateLimiter(storage) if isinstance(storage, MovingWindowSupport) else None
        )
        self._pool = pool
        self._pause_s = pause_after_failure_s
        self._paused_until = 0.0

    @classmethod
    def in_memory(cls) -> RateLimiter:
        """Counts in this process only: for ``serve``, where it is the only process."""
        return cls(MemoryStorage())

    @classmethod
    def in_redis(cls, url: str, *, timeout_s: float = REDIS_TIMEOUT_S) -> RateLimiter:
        """Counts in Redis at ``url`` (``redis://``, ``rediss://`` or ``unix://``), shared
        by every process using it. No connection is made until the first check."""
        # Our own pool: timeouts that bound a check, no retries (a failed check fails
        # open at once), and something to close at shutdown. limits only needs the URI
        # to pick its Redis storage; the pool decides where it connects.
        pool = redis_pool(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        options: dict[str, Any] = {"connection_pool": pool}
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            wrap_exceptions=True,
            key_prefix=KEY_PREFIX,
            **options,
        )
        return cls(storage, pool=pool)

    async def hit(self, name: str, identity: str, limit: Limit, cost: int = 1) -> Decision:
        """Charges ``cost`` to ``identity``'s ``name`` counter if it fits in ``limit``.

        A cost above the whole amount could never fit: it is charged the whole amount
        instead, so it gets through when the window is untouched and then uses all of
        it (a client whose batches are bigger than the limit is slowed down, not refused
        for ever). Never raises for an unavailable store: see the module's docstring."""
        charged = max(1, min(cost, limit.amount))
        if self._paused():
            return self._count(name, _unchecked(limit))
        key = limit.item.key_for(name, identity)
        try:
            allowed = await self._strategy.hit(limit.item, name, identity, cost=charged)
            window = await self._windows.get_sliding_window(key, limit.item.get_expiry())
        except (StorageError, RedisError, OSError) as exc:
            self._failed(exc)
            return self._count(name, _unchecked(limit))
        return self._count(name, decide(limit, charged, allowed, window))

    async def test(self, name: str, identity: str, limit: Limit, cost: int = 1) -> Decision:
        """Whether ``hit`` with ``cost`` would be let through now, charging nothing."""
        charged = max(1, min(cost, limit.amount))
        if self._paused():
            return _unchecked(limit)
        key = limit.item.key_for(name, identity)
        try:
            window = await self._windows.get_sliding_window(key, limit.item.get_expiry())
        except (StorageError, RedisError, OSError) as exc:
            self._failed(exc)
            return _unchecked(limit)
        return decide(limit, charged, None, window)

    async def hit_exactly(self, name: str, identity: str, limit: Limit) -> Decision:
        """Counts one hit in an exact moving window (every hit kept until it leaves the
        window): for small limits that must hold at every instant."""
        return await self._exactly(name, identity, limit, charge=True)

    async def test_exactly(self, name: str, identity: str, limit: Limit) -> Decision:
        """Whether one more hit fits the exact moving window now, charging nothing."""
        return await self._exactly(name, identity, limit, charge=False)

    async def _exactly(self, name: str, identity: str, limit: Limit, *, charge: bool) -> Decision:
        if self._exact is None:
            raise TypeError("this store cannot count exact moving windows")
        if self._paused():
            return self._count(name, _unchecked(limit))
        try:
            if charge:
                await self._exact.hit(limit.item, name, identity)
            stats = await self._exact.get_window_stats(limit.item, name, identity)
        except (StorageError, RedisError, OSError) as exc:
            self._failed(exc)
            return self._count(name, _unchecked(limit))
        remaining = max(0, stats.remaining)
        free_in_s = max(0.0, stats.reset_time - time.time())
        allowed = charge or remaining >= 1
        return self._count(
            name,
            Decision(
                allowed=allowed,
                limit=limit.amount,
                remaining=remaining,
                reset_after_s=free_in_s,
                retry_after_s=0.0 if allowed else free_in_s,
            ),
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    def _paused(self) -> bool:
        return self._paused_until > time.monotonic()

    def _failed(self, exc: Exception) -> None:
        self._paused_until = time.monotonic() + self._pause_s
        log.warning(
            "rate_limits.unavailable",
            error=repr(exc),
            fail_open_for_s=self._pause_s,
            detail="requests are let through unchecked until the store answers again",
        )

    @staticmethod
    def _count(name: str, decision: Decision) -> Decision:
        if not decision.checked:
            result = "unchecked"
        else:
            result = "allowed" if decision.allowed else "refused"
        DECISIONS.labels(name, result).inc()
        return decision
