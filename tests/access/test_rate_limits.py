"""The rate limiter itself: counts shared through Redis, counted in memory, the headers a
refusal carries, costs above the whole limit, and failing open without Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from access.rate_limits import Decision, Limit, RateLimiter, decide, tightest
from devservices import DevServices
from tests.processes import free_port

PER_MINUTE = 60
"""The tests' windows are a minute long, so nothing in them depends on timing."""


@pytest.fixture
async def redis_limiters(services: DevServices) -> AsyncIterator[tuple[RateLimiter, RateLimiter]]:
    """Two limiters on the same Redis, as two replicas have."""
    first, second = (
        RateLimiter.in_redis(services.redis_url),
        RateLimiter.in_redis(services.redis_url),
    )
    yield first, second
    await first.close()
    await second.close()


def _identity() -> str:
    return f"key:{uuid.uuid4()}"


async def test_a_second_limiter_on_the_same_redis_sees_the_first_ones_hits(
    redis_limiters: tuple[RateLimiter, RateLimiter],
) -> None:
    first, second = redis_limiters
    who, limit = _identity(), Limit(5, PER_MINUTE)
    assert (await first.hit("spans", who, limit, cost=3)).remaining == 2
    refused = await second.hit("spans", who, limit, cost=3)
    assert not refused.allowed
    assert refused.remaining == 2
    assert 1 <= int(refused.headers()["Retry-After"]) <= 2 * PER_MINUTE
    assert (await second.hit("spans", who, limit, cost=2)).allowed
    assert not (await first.test("spans", who, limit)).allowed
    # Another identity, and another name for the same identity, count apart.
    assert (await first.hit("spans", _identity(), limit, cost=5)).allowed
    assert (await first.hit("requests", who, limit, cost=5)).allowed


async def test_in_memory_the_refusal_names_the_limit_and_when_to_retry() -> None:
    limiter = RateLimiter.in_memory()
    who, limit = _identity(), Limit(3, PER_MINUTE)
    decisions = [await limiter.hit("requests", who, limit) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    ok = decisions[0].headers()
    assert ok["X-RateLimit-Limit"] == "3"
    assert ok["X-RateLimit-Remaining"] == "2"
    assert 0 < int(ok["X-RateLimit-Reset"]) <= 2 * PER_MINUTE
    assert "Retry-After" not in ok
    refused = decisions[-1].headers()
    assert refused["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused["Retry-After"]) <= 2 * PER_MINUTE
    await limiter.close()


async def test_test_charges_nothing() -> None:
    limiter = RateLimiter.in_memory()
    who, limit = _identity(), Limit(2, PER_MINUTE)
    for _ in range(5):
        assert (await limiter.test("logins", who, limit)).allowed
    assert (await limiter.hit("logins", who, limit, cost=2)).allowed
    assert not (await limiter.test("logins", who, limit)).allowed


async def test_a_cost_above_the_whole_limit_passes_once_and_uses_the_whole_window() -> None:
    limiter = RateLimiter.in_memory()
    who, limit = _identity(), Limit(5, PER_MINUTE)
    big = await limiter.hit("spans", who, limit, cost=50)
    assert big.allowed
    assert big.remaining == 0
    assert not (await limiter.hit("spans", who, limit, cost=1)).allowed


async def test_without_redis_every_check_passes_unchecked_and_says_so_once() -> None:
    limiter = RateLimiter.in_redis(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    limit = Limit(1, PER_MINUTE)
    with capture_logs() as logs:
        decisions = [await limiter.hit("requests", _identity(), limit) for _ in range(5)]
        tested = await limiter.test("requests", _identity(), limit)
    assert all(d.allowed and not d.checked for d in [*decisions, tested])
    assert decisions[0].headers() == {}
    # One warning, then no more tries (and no more lines) until the pause is over.
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["rate_limits.unavailable"]
    await limiter.close()


def test_retry_after_waits_for_the_last_windows_weight_to_decay() -> None:
    # 10 per 10 s. Last window: 10, half of it still counting (5 s left); this one: 6.
    decision = decide(Limit(10, 10), 4, False, (10, 5.0, 6, 15.0))
    assert (decision.remaining, decision.retry_after_s) == (0, 5.0)
    # This window alone is too full: wait for it to end (2 s) and to decay enough.
    decision = decide(Limit(10, 10), 4, False, (0, 0.0, 9, 12.0))
    assert decision.retry_after_s == pytest.approx(2 + 10 - 6 * 10 / 9)
    assert decision.headers()["Retry-After"] == "6"
    assert decision.headers()["X-RateLimit-Reset"] == "12"


def test_the_tightest_of_several_decisions_is_the_one_closest_to_refusing() -> None:
    requests = Decision(True, 100, 90, 1.0, 0.0)
    spans = Decision(True, 1000, 100, 1.0, 0.0)
    unchecked = Decision(True, 10, 10, 0.0, 0.0, checked=False)
    assert tightest([requests, None, spans, unchecked]) is spans
    assert tightest([None, unchecked]) is None


async def test_exact_counting_refuses_the_eleventh_in_memory_and_across_redis_replicas(
    redis_limiters: tuple[RateLimiter, RateLimiter],
) -> None:
    """The login lockout's counting: every hit kept for the whole window, so ten within
    any 60 s refuse the next, wherever a minute boundary falls."""
    first, second = redis_limiters
    for pair in ((RateLimiter.in_memory(),) * 2, (first, second)):
        who, limit = _identity(), Limit(10, PER_MINUTE)
        for n in range(10):
            assert (await pair[n % 2].test_exactly("logins", who, limit)).allowed, n
            await pair[n % 2].hit_exactly("logins", who, limit)
        refused = await pair[1].test_exactly("logins", who, limit)
        assert not refused.allowed
        assert refused.remaining == 0
        assert 1 <= int(refused.headers()["Retry-After"]) <= PER_MINUTE
