"""The rate limits set for one project (``projects.rate_limits``, migration 0005)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True, slots=True)
class RateLimitOverrides:
    """A project's own limits: None takes the server's default, 0 means unlimited."""

    ingest_requests_per_s: int | None = None
    ingest_spans_per_s: int | None = None
    graphql_cost_per_minute: int | None = None

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> RateLimitOverrides:
        """From the column; names it does not know (a newer server's) are ignored."""
        if not value:
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in value.items() if k in known and v is not None})


OVERRIDE_NAMES = tuple(f.name for f in fields(RateLimitOverrides))


async def project_rate_limits(
    engine: AsyncEngine, project_id: uuid.UUID
) -> RateLimitOverrides | None:
    """The project's own limits; None when there is no such project."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT rate_limits FROM projects WHERE id = :id"), {"id": project_id}
            )
        ).first()
    return None if row is None else RateLimitOverrides.from_json(row.rate_limits)


async def update_project_rate_limits(
    engine: AsyncEngine,
    project_id: uuid.UUID,
    values: Mapping[str, int],
    cleared: frozenset[str] = frozenset(),
) -> RateLimitOverrides | None:
    """Sets ``values`` and drops ``cleared`` (back to the server's defaults), leaving the
    project's other limits as they are, in one statement; the result, or None when
    there is no such project."""
    unknown = (set(values) | cleared) - set(OVERRIDE_NAMES)
    if unknown:
        raise ValueError(f"unknown rate limits: {sorted(unknown)}")
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                text(
                    "UPDATE projects SET rate_limits = NULLIF("
                    " (COALESCE(rate_limits, '{}'::jsonb) - CAST(:cleared AS text[]))"
                    " || CAST(:values AS jsonb), '{}'::jsonb)"
                    " WHERE id = :id RETURNING rate_limits"
                ),
                {"id": project_id, "cleared": sorted(cleared), "values": json.dumps(values)},
            )
        ).first()
    return None if row is None else RateLimitOverrides.from_json(row.rate_limits)
