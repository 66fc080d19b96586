"""Brute-force protection for logins: failed attempts are counted per account and per
client address in the rate limiter (Redis when configured, so every replica counts
together). Past the limit every login for that account (or from that address) is refused
with 429 until the window has passed, even with the right password: a guesser learns
nothing from the answer. Failures are counted exactly (a moving window), so ten of them
within any 60 seconds lock the account, whatever the clock says."""

from __future__ import annotations

from access.rate_limits import Limit, RateLimiter
from agenttrace.errors import RateLimited

WINDOW_S = 60


class LoginGuard:
    def __init__(
        self, limiter: RateLimiter, per_account: int, per_client: int, window_s: int = WINDOW_S
    ) -> None:
        self._limiter = limiter
        self._per_account = Limit(per_account, window_s)
        self._per_client = Limit(per_client, window_s)

    async def check(self, email: str, client: str) -> None:
        """RateLimited when the account or the address has failed too often lately."""
        for name, identity, limit in self._counters(email, client):
            decision = await self._limiter.test_exactly(name, identity, limit)
            if not decision.allowed:
                raise RateLimited(
                    "too many failed logins; try again later", headers=decision.headers()
                )

    async def failed(self, email: str, client: str) -> None:
        for name, identity, limit in self._counters(email, client):
            await self._limiter.hit_exactly(name, identity, limit)

    def _counters(self, email: str, client: str) -> list[tuple[str, str, Limit]]:
        return [
            ("login-failures-account", email.lower(), self._per_account),
            ("login-failures-client", client, self._per_client),
        ]
