"""Ingest's rate limits, per API key: requests per second, checked before the body is
read (a refused client costs us almost nothing), and spans per second, charged with the
number of spans in the request once it is decoded and before anything is published. A
refused request publishes nothing: 429 with Retry-After and the X-RateLimit-* headers
of the limit that refused; the SDK and OTel's OTLP exporters wait that long and retry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from access.project_limits import INGEST_REQUESTS, INGEST_SPANS, ProjectLimitsResolver
from access.rate_limits import Decision, Limit, RateLimiter
from agenttrace.errors import RateLimited


@dataclass(frozen=True, slots=True)
class IngestRateLimits:
    limiter: RateLimiter
    limits: ProjectLimitsResolver

    async def admit_request(self, principal: str, project_id: uuid.UUID) -> Decision | None:
        """Charges one request; RateLimited when over the project's requests/s limit.
        None when the project's requests are unlimited."""
        limit = (await self.limits.of(project_id)).ingest_requests
        if limit is None:
            return None
        decision = await self.limiter.hit(INGEST_REQUESTS, principal, limit)
        if not decision.allowed:
            raise _refused(decision, f"{_per_s(limit, 'requests')} per API key")
        return decision

    async def admit_spans(
        self, principal: str, project_id: uuid.UUID, spans: int
    ) -> Decision | None:
        """Charges ``spans``; RateLimited when over the project's spans/s limit. None
        when its spans are unlimited or there are none."""
        limit = (await self.limits.of(project_id)).ingest_spans
        if limit is None or spans < 1:
            return None
        decision = await self.limiter.hit(INGEST_SPANS, principal, limit, cost=spans)
        if not decision.allowed:
            raise _refused(
                decision, f"{_per_s(limit, 'spans')} per API key; this request has {spans:,}"
            )
        return decision


def _per_s(limit: Limit, unit: str) -> str:
    units = unit if limit.amount != 1 else unit.removesuffix("s")
    return f"ingest {unit}/s limit: {limit.amount:,} {units} per second"


def _refused(decision: Decision, which: str) -> RateLimited:
    headers = decision.headers()
    return RateLimited(
        f"rate limit exceeded ({which}); nothing was stored, retry after"
        f" {headers['Retry-After']} s",
        headers=headers,
    )
