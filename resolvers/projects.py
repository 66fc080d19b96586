"""Reads projects, their headline counts, and the sessions and users seen in them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.errors import InvalidArgument
from resolvers.filters import TimeRange
from resolvers.reading import reading

MAX_GROUPS = 500


@dataclass(frozen=True, slots=True)
class ProjectData:
    id: uuid.UUID
    name: str
    created_at: datetime
    masking_rules: list[dict[str, str]] | None = None
    retention_days: int | None = None


@dataclass(frozen=True, slots=True)
class ProjectStats:
    trace_count: int
    span_count: int
    error_trace_count: int
    last_trace_at: datetime | None


@dataclass(frozen=True, slots=True)
class TraceGroup:
    """The traces sharing one session id or user id."""

    key: str
    trace_count: int
    error_count: int
    total_tokens: int
    cost: float
    first_seen: datetime
    last_seen: datetime


async def projects_by_ids(
    engine: AsyncEngine, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ProjectData]:
    async with reading(engine) as conn:
        rows = await conn.execute(
            text(
                "SELECT id, name, created_at, masking_rules, retention_days FROM projects"
                " WHERE id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": list(ids)},
        )
        return {
            row.id: ProjectData(
                row.id, row.name, row.created_at, row.masking_rules, row.retention_days
            )
            for row in rows
        }


async def stats_of_projects(
    engine: AsyncEngine, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ProjectStats]:
    """Counts from the traces table (its span_count aggregates), never a scan of spans."""
    result = {project_id: ProjectStats(0, 0, 0, None) for project_id in ids}
    async with reading(engine) as conn:
        rows = await conn.execute(
            text(
                "SELECT project_id, count(*) AS traces, COALESCE(sum(span_count), 0) AS spans,"
                " count(*) FILTER (WHERE error_count > 0) AS errors,"
                " max(start_time) AS last_trace_at"
                " FROM traces WHERE project_id = ANY(CAST(:ids AS uuid[])) GROUP BY project_id"
            ),
            {"ids": list(ids)},
        )
        for row in rows:
            result[row.project_id] = ProjectStats(
                int(row.traces), int(row.spans), int(row.errors), row.last_trace_at
            )
    return result


async def trace_groups(
    engine: AsyncEngine,
    project_id: uuid.UUID,
    by: Literal["session_id", "user_id"],
    time: TimeRange | None,
    limit: int,
) -> list[TraceGroup]:
    """Sessions or users of a project, most recently active first, at most ``limit``.
    Raises InvalidArgument unless ``limit`` is 1 to MAX_GROUPS."""
    if not 1 <= limit <= MAX_GROUPS:
        raise InvalidArgument(f"limit must be between 1 and {MAX_GROUPS}, got {limit}")
    params: dict[str, object] = {"p": project_id, "n": limit}
    where = f"project_id = :p AND {by} IS NOT NULL"
    if time is not None and time.start is not None:
        where += " AND start_time >= :start"
        params["start"] = time.start
    if time is not None and time.end is not None:
        where += " AND start_time < :end"
        params["end"] = time.end
    async with reading(engine) as conn:
        rows = await conn.execute(
            text(
                f"SELECT {by} AS key, count(*) AS traces, count(*) FILTER (WHERE error_count > 0)"
                " AS errors, sum(total_tokens) AS tokens, sum(cost) AS cost,"
                " min(start_time) AS first_seen, max(start_time) AS last_seen"
                f" FROM traces WHERE {where} GROUP BY {by} ORDER BY last_seen DESC LIMIT :n"
            ),
            params,
        )
        return [
            TraceGroup(
                row.key,
                int(row.traces),
                int(row.errors),
                int(row.tokens),
                float(row.cost),
                row.first_seen,
                row.last_seen,
            )
            for row in rows
        ]
