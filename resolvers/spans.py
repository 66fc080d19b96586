"""Reads spans: by trace, by id, by parent, and filtered lists. Scoped by project id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.filters import SPAN_DURATION_MS, Conditions, span_where
from resolvers.keyset import KeysetQuery, fetch_page
from resolvers.paging import Page, Sort, SortField, page_size
from resolvers.reading import reading
from resolvers.records import SPAN_COLUMNS, SPAN_OUTLINE_COLUMNS, SpanData, SpanKey, TraceKey

_SPANS = KeysetQuery(
    table="spans s",
    columns=SPAN_COLUMNS,
    sort_expressions={
        SortField.START_TIME: "s.start_time",
        SortField.DURATION: f"COALESCE({SPAN_DURATION_MS}, -1)",
        SortField.COST: "COALESCE(s.cost, 0)",
        SortField.TOKENS: "CAST(COALESCE(s.total_tokens, 0) AS double precision)",
    },
    key_columns=[("s.trace_id", "uuid"), ("s.span_id", "bigint")],
)


async def list_spans(
    engine: AsyncEngine,
    project_id: uuid.UUID,
    conditions: Conditions,
    sort: Sort,
    *,
    first: int | None,
    after: str | None,
) -> Page[SpanData]:
    """One page of a project's spans matching ``conditions``, in ``sort`` order."""
    where = span_where(project_id, conditions)
    return await fetch_page(engine, _SPANS, where, sort, page_size(first), after, SpanData.from_row)


async def spans_of_traces(
    engine: AsyncEngine, keys: Sequence[TraceKey], *, outline: bool = False
) -> dict[TraceKey, list[SpanData]]:
    """Every span of each trace, by start time (one statement for any number of traces).
    ``outline``: without the payload columns (see records.SPAN_PAYLOAD_FIELDS)."""
    columns, build = (
        (SPAN_OUTLINE_COLUMNS, SpanData.outline_from_row)
        if outline
        else (SPAN_COLUMNS, SpanData.from_row)
    )
    result: dict[TraceKey, list[SpanData]] = {key: [] for key in keys}
    async with reading(engine) as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT {columns} FROM spans WHERE (project_id, trace_id) IN"
                    " (SELECT * FROM unnest(CAST(:p AS uuid[]), CAST(:t AS uuid[])))"
                    " ORDER BY project_id, trace_id, start_time, span_id"
                ),
                {"p": [k[0] for k in keys], "t": [k[1] for k in keys]},
            )
        ).mappings()
        for row in rows:
            span = build(row)
            result.setdefault(span.trace_key, []).append(span)
    return result


async def spans_by_keys(engine: AsyncEngine, keys: Sequence[SpanKey]) -> dict[SpanKey, SpanData]:
    async with reading(engine) as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT {SPAN_COLUMNS} FROM spans WHERE (project_id, trace_id, span_id) IN"
                    " (SELECT * FROM unnest(CAST(:p AS uuid[]), CAST(:t AS uuid[]),"
                    " CAST(:s AS bigint[])))"
                ),
                {"p": [k[0] for k in keys], "t": [k[1] for k in keys], "s": [k[2] for k in keys]},
            )
        ).mappings()
        found = [SpanData.from_row(row) for row in rows]
    return {span.key: span for span in found}


async def children_of_spans(
    engine: AsyncEngine, keys: Sequence[SpanKey]
) -> dict[SpanKey, list[SpanData]]:
    """Each span's direct children, by start time."""
    result: dict[SpanKey, list[SpanData]] = {key: [] for key in keys}
    async with reading(engine) as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT {SPAN_COLUMNS} FROM spans WHERE (project_id, trace_id, parent_span_id)"
                    " IN (SELECT * FROM unnest(CAST(:p AS uuid[]), CAST(:t AS uuid[]),"
                    " CAST(:s AS bigint[]))) ORDER BY start_time, span_id"
                ),
                {"p": [k[0] for k in keys], "t": [k[1] for k in keys], "s": [k[2] for k in keys]},
            )
        ).mappings()
        for row in rows:
            span = SpanData.from_row(row)
            assert span.parent_span_id is not None
            result[(span.project_id, span.trace_id, span.parent_span_id)].append(span)
    return result
