"""Reads traces: one SQL path per question, shared by GraphQL, REST and subscriptions.
Every query is scoped by project id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.filters import Conditions, trace_where
from resolvers.keyset import KeysetQuery, fetch_page
from resolvers.paging import Page, Sort, SortField, page_size
from resolvers.reading import reading
from resolvers.records import TRACE_COLUMNS, TraceData, TraceKey

_TRACES = KeysetQuery(
    table="traces t",
    columns=TRACE_COLUMNS,
    sort_expressions={
        SortField.START_TIME: "t.start_time",
        # A running trace has no duration yet; it sorts as the shortest.
        SortField.DURATION: "COALESCE(t.duration_ms, -1)",
        SortField.COST: "t.cost",
        SortField.TOKENS: "CAST(t.total_tokens AS double precision)",
    },
    key_columns=[("t.trace_id", "uuid")],
)


async def list_traces(
    engine: AsyncEngine,
    project_id: uuid.UUID,
    conditions: Conditions,
    sort: Sort,
    *,
    first: int | None,
    after: str | None,
) -> Page[TraceData]:
    """One page of a project's traces matching ``conditions``, in ``sort`` order.
    Raises InvalidArgument for a bad page size or cursor."""
    where = trace_where(project_id, conditions)
    return await fetch_page(
        engine, _TRACES, where, sort, page_size(first), after, TraceData.from_row
    )


async def traces_by_keys(
    engine: AsyncEngine, keys: Sequence[TraceKey]
) -> dict[TraceKey, TraceData]:
    """The traces that exist among ``keys`` (one statement for any number of keys)."""
    async with reading(engine) as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT {TRACE_COLUMNS} FROM traces WHERE (project_id, trace_id) IN"
                    " (SELECT * FROM unnest(CAST(:p AS uuid[]), CAST(:t AS uuid[])))"
                ),
                {"p": [k[0] for k in keys], "t": [k[1] for k in keys]},
            )
        ).mappings()
        found = [TraceData.from_row(row) for row in rows]
    return {trace.key: trace for trace in found}


async def matching_trace_ids(
    engine: AsyncEngine, project_id: uuid.UUID, conditions: Conditions
) -> set[uuid.UUID]:
    """Which of ``conditions.trace_ids`` match the rest of the conditions (subscriptions)."""
    where = trace_where(project_id, conditions)
    async with reading(engine) as conn:
        rows = await conn.execute(
            text(f"SELECT t.trace_id FROM traces t WHERE {where.sql}"), where.params
        )
        return {row.trace_id for row in rows}
