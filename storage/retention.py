"""Retention per project (``projects.retention_days``, migration 0006) and the reads the
retention job (workers/retention.py) makes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def set_project_retention_days(
    engine: AsyncEngine, project_id: uuid.UUID, days: int | None
) -> bool:
    """Sets the project's retention (None: the server's default; 0: for ever); False
    when there is no such project."""
    if days is not None and days < 0:
        raise ValueError("retention days must be 0 (for ever) or more")
    async with engine.begin() as conn:
        result = await conn.execute(
            text("UPDATE projects SET retention_days = :days WHERE id = :id"),
            {"id": project_id, "days": days},
        )
    return bool(result.rowcount)


async def projects_with_retention(
    engine: AsyncEngine, default_days: int
) -> list[tuple[uuid.UUID, int]]:
    """(project, days) of every project whose data expires: its own retention, else
    ``default_days``; 0 keeps everything."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, COALESCE(retention_days, :default) AS days FROM projects"
                " WHERE COALESCE(retention_days, :default) > 0 ORDER BY id"
            ),
            {"default": default_days},
        )
        return [(row.id, int(row.days)) for row in rows]


async def expired_traces(
    engine: AsyncEngine, project: uuid.UUID, cutoff: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Up to ``limit`` (project, trace) keys of traces that started before ``cutoff``,
    oldest first (ix_traces_project_start)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT trace_id FROM traces WHERE project_id = :p AND start_time < :cutoff"
                " ORDER BY start_time LIMIT :limit"
            ),
            {"p": project, "cutoff": cutoff, "limit": limit},
        )
        return [(project, row.trace_id) for row in rows]


async def database_now(engine: AsyncEngine) -> datetime:
    async with engine.connect() as conn:
        now: datetime = (await conn.execute(text("SELECT now()"))).scalar_one()
    return now
