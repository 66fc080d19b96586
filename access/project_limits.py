"""The rate limits in force for a project: the server's defaults (AGENTTRACE_RATE_LIMIT_*)
with the project's own settings over them, cached for a few seconds so ingest does not
query PostgreSQL per request. A change takes effect at once in the process that made it
and within ``ttl_s`` everywhere else."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from access.rate_limits import Limit
from agenttrace.settings import Settings
from storage.database import DATABASE_FAILURES
from storage.rate_limits import RateLimitOverrides, project_rate_limits

INGEST_REQUESTS = "ingest-requests"
INGEST_SPANS = "ingest-spans"
GRAPHQL_COST = "graphql-cost"
"""The names the limiter counts under (one counter per name and caller)."""


def _limit(amount: int, per_s: int) -> Limit | None:
    return Limit(amount, per_s) if amount > 0 else None


@dataclass(frozen=True, slots=True)
class ProjectLimits:
    """The limits in force: numbers as set (0: unlimited), and as Limits to check (None:
    unlimited, nothing to check)."""

    ingest_requests_per_s: int
    ingest_spans_per_s: int
    graphql_cost_per_minute: int

    @classmethod
    def of(cls, settings: Settings, overrides: RateLimitOverrides) -> ProjectLimits:
        def pick(own: int | None, default: int) -> int:
            return default if own is None else own

        return cls(
            pick(overrides.ingest_requests_per_s, settings.rate_limit_ingest_requests_per_s),
            pick(overrides.ingest_spans_per_s, settings.rate_limit_ingest_spans_per_s),
            pick(overrides.graphql_cost_per_minute, settings.rate_limit_graphql_cost_per_minute),
        )

    @property
    def ingest_requests(self) -> Limit | None:
        return _limit(self.ingest_requests_per_s, 1)

    @property
    def ingest_spans(self) -> Limit | None:
        return _limit(self.ingest_spans_per_s, 1)

    @property
    def graphql_cost(self) -> Limit | None:
        return _limit(self.graphql_cost_per_minute, 60)


class ProjectLimitsResolver:
    def __init__(
        self,
        engine: AsyncEngine,
        settings: Settings,
        *,
        ttl_s: float = 5.0,
        max_entries: int = 10_000,
    ) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._settings = settings
        self.defaults = ProjectLimits.of(settings, RateLimitOverrides())
        self._cache: dict[uuid.UUID, tuple[float, ProjectLimits]] = {}

    async def of(self, project_id: uuid.UUID | None) -> ProjectLimits:
        """The limits of ``project_id`` (the defaults for None or a missing project)."""
        if project_id is None:
            return self.defaults
        now = time.monotonic()
        cached = self._cache.get(project_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            overrides = await project_rate_limits(self._engine, project_id)
        except DATABASE_FAILURES:
            # PostgreSQL is down: the last known limits, else the server's (limits fail
            # open rather than stop ingest: docs/security.md).
            limits = cached[1] if cached is not None else self.defaults
        else:
            limits = ProjectLimits.of(self._settings, overrides or RateLimitOverrides())
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        self._cache[project_id] = (now + self._ttl_s, limits)
        return limits

    def forget(self, project_id: uuid.UUID) -> None:
        """Drops the cached limits, so a change takes effect at once in this process."""
        self._cache.pop(project_id, None)
