"""Project analytics over a time range, computed in PostgreSQL: a time series, totals,
groups and the slowest and costliest spans. Shared by GraphQL and ``GET /api/v1/analytics``.

Two families of measures, each read from its own table:

- trace measures (count, error count, end-to-end latency percentiles) come from
  ``traces`` and are placed by the trace's start time;
- span measures (count, error count, tokens, cost) come from ``spans`` and are placed by
  the span's start time. Tokens and cost count model calls only (LLM and EMBEDDING
  spans), as the trace aggregates do (workers/span_store.RECOMPUTE_TRACES), so a
  framework that also reports totals on its parent spans is not counted twice.

An optional span filter narrows the selected spans (those starting in the range); the
trace measures then count the traces, started in the range, that hold a selected span.
Each function runs one statement.

Long unfiltered ranges read the per-minute and hourly rollups instead, for their whole minutes
(resolvers/analytics_rollups.py: one more small statement asks whether the project's
rollups are complete): the same counts and sums, and percentiles within the latency
histograms' stated error.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.errors import InvalidArgument
from resolvers import analytics_rollups
from resolvers.filters import Conditions, TimeRange, Where, span_where
from resolvers.reading import reading
from resolvers.records import SPAN_COLUMNS, SpanData

MAX_BUCKETS = 1_500
MAX_LIMIT = 100


class TimeBucket(StrEnum):
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"


class GroupBy(StrEnum):
    MODEL = "MODEL"
    KIND = "KIND"
    NAME = "NAME"


_STEPS = {
    TimeBucket.MINUTE: timedelta(minutes=1),
    TimeBucket.HOUR: timedelta(hours=1),
    TimeBucket.DAY: timedelta(days=1),
}
# Buckets are aligned to this instant, so an hour or a day starts on the UTC clock.
_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
_ORIGIN_SQL = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"
_INTERVAL_SQL = {
    TimeBucket.MINUTE: "INTERVAL '1 minute'",
    TimeBucket.HOUR: "INTERVAL '1 hour'",
    TimeBucket.DAY: "INTERVAL '1 day'",
}
_GROUP_KEYS = {GroupBy.MODEL: "s.model", GroupBy.KIND: "s.kind", GroupBy.NAME: "s.name"}

_MODEL_CALL = "s.kind IN ('LLM', 'EMBEDDING')"
# date_part gives the double precision percentile_cont takes; EXTRACT would give numeric.
_SPAN_MS = "(date_part('epoch', s.end_time - s.start_time) * 1000)"
_PERCENTILES = "percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY {})"
_USAGE = f"""COALESCE(sum(s.input_tokens) FILTER (WHERE {_MODEL_CALL}), 0) AS input_tokens,
    COALESCE(sum(s.output_tokens) FILTER (WHERE {_MODEL_CALL}), 0) AS output_tokens,
    COALESCE(sum(COALESCE(s.total_tokens,
                          COALESCE(s.input_tokens, 0) + COALESCE(s.output_tokens, 0)))
             FILTER (WHERE {_MODEL_CALL}), 0) AS total_tokens,
    COALESCE(sum(s.cost) FILTER (WHERE {_MODEL_CALL}), 0) AS cost"""


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Milliseconds; null where nothing finished."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None

    @classmethod
    def of(cls, values: list[float | None] | None) -> Percentiles:
        return cls() if values is None else cls(*values)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class Measures:
    """What a bucket, or the whole range, adds up to."""

    trace_count: int = 0
    error_trace_count: int = 0
    trace_latency: Percentiles = field(default_factory=Percentiles)
    span_count: int = 0
    error_span_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0

    @property
    def error_rate(self) -> float | None:
        """Failed spans over spans; None without spans."""
        return _ratio(self.error_span_count, self.span_count)

    @property
    def trace_error_rate(self) -> float | None:
        """Traces with a failed span over traces; None without traces."""
        return _ratio(self.error_trace_count, self.trace_count)


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime
    end: datetime
    measures: Measures


@dataclass(frozen=True, slots=True)
class Group:
    """The spans sharing a model, kind or name."""

    key: str
    span_count: int
    error_count: int
    latency: Percentiles
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: float

    @property
    def error_rate(self) -> float | None:
        return _ratio(self.error_count, self.span_count)


@dataclass(frozen=True, slots=True)
class Scope:
    """One project's spans and traces starting in ``[start, end)``; given ``conditions``,
    only the spans matching them, and the traces holding one of those spans."""

    project_id: uuid.UUID
    start: datetime
    end: datetime
    conditions: Conditions = field(default_factory=Conditions)

    @classmethod
    def of(
        cls, project_id: uuid.UUID, time: TimeRange | None, conditions: Conditions | None = None
    ) -> Scope:
        """Raises InvalidArgument unless ``time`` has both bounds, with time zones, in order."""
        if time is None or time.start is None or time.end is None:
            raise InvalidArgument("analytics needs a time range with both a start and an end")
        if time.start.tzinfo is None or time.end.tzinfo is None:
            raise InvalidArgument("time range bounds need a time zone, e.g. 2026-01-01T00:00Z")
        if time.start >= time.end:
            raise InvalidArgument("time range start must be before its end")
        return cls(project_id, time.start, time.end, conditions or Conditions())

    def wheres(self) -> tuple[Where, Where]:
        """WHEREs for ``spans s`` and ``traces t`` in the scope, sharing one set of bind
        parameters so that one statement can use both."""
        selected = span_where(self.project_id, self.conditions)
        start, end = selected.bind(self.start), selected.bind(self.end)
        spans = Where(
            [*selected.clauses, f"s.start_time >= {start}", f"s.start_time < {end}"],
            selected.params,
        )
        traces = Where(params=selected.params)
        traces.add(f"t.project_id = {traces.bind(self.project_id)}")
        traces.clauses += [f"t.start_time >= {start}", f"t.start_time < {end}"]
        if self.conditions != Conditions():
            traces.add(
                "EXISTS (SELECT 1 FROM spans s WHERE s.project_id = t.project_id"
                f" AND s.trace_id = t.trace_id AND {spans.sql})"
            )
        return spans, traces


def check_limit(limit: int) -> int:
    """``limit`` if within 1 to MAX_LIMIT; a clear error rather than a silent clamp."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def bucket_starts(start: datetime, end: datetime, bucket: TimeBucket) -> list[datetime]:
    """The starts of the buckets that ``[start, end)`` touches, aligned to the UTC clock.
    Raises InvalidArgument past MAX_BUCKETS."""
    step = _STEPS[bucket]
    first = _ORIGIN + ((start - _ORIGIN) // step) * step
    last = _ORIGIN + ((end - timedelta(microseconds=1) - _ORIGIN) // step) * step
    count = (last - first) // step + 1
    if count > MAX_BUCKETS:
        coarser = [b.name for b in TimeBucket if _STEPS[b] > step]
        hint = f"a coarser bucket ({' or '.join(coarser)}) or " if coarser else ""
        raise InvalidArgument(
            f"this time range has {count} {bucket.name} buckets; at most {MAX_BUCKETS} are"
            f" allowed: use {hint}a shorter time range"
        )
    return [first + i * step for i in range(count)]


def _trace_family(where: Where, bucket: TimeBucket | None) -> str:
    key = (
        f"date_bin({_INTERVAL_SQL[bucket]}, t.start_time, {_ORIGIN_SQL}) AS bucket, "
        if bucket
        else ""
    )
    return (
        f"SELECT {key}count(*) AS trace_count,"
        " count(*) FILTER (WHERE t.error_count > 0) AS error_trace_count,"
        f" {_PERCENTILES.format('t.duration_ms')} AS trace_ms"
        f" FROM traces t WHERE {where.sql}" + (" GROUP BY 1" if bucket else "")
    )


def _span_family(where: Where, bucket: TimeBucket | None) -> str:
    key = (
        f"date_bin({_INTERVAL_SQL[bucket]}, s.start_time, {_ORIGIN_SQL}) AS bucket, "
        if bucket
        else ""
    )
    return (
        f"SELECT {key}count(*) AS span_count,"
        " count(*) FILTER (WHERE s.status = 'ERROR') AS error_span_count,"
        f" {_USAGE} FROM spans s WHERE {where.sql}" + (" GROUP BY 1" if bucket else "")
    )


_MEASURE_COLUMNS = """COALESCE(tf.trace_count, 0) AS trace_count,
    COALESCE(tf.error_trace_count, 0) AS error_trace_count, tf.trace_ms,
    COALESCE(sf.span_count, 0) AS span_count,
    COALESCE(sf.error_span_count, 0) AS error_span_count,
    COALESCE(sf.input_tokens, 0) AS input_tokens, COALESCE(sf.output_tokens, 0) AS output_tokens,
    COALESCE(sf.total_tokens, 0) AS total_tokens, COALESCE(sf.cost, 0) AS cost"""


def _measures(row: Any) -> Measures:
    # Token sums come back as numeric (sum of bigint is exact and never overflows).
    return Measures(
        trace_count=int(row.trace_count),
        error_trace_count=int(row.error_trace_count),
        trace_latency=Percentiles.of(row.trace_ms),
        span_count=int(row.span_count),
        error_span_count=int(row.error_span_count),
        input_tokens=int(row.input_tokens),
        output_tokens=int(row.output_tokens),
        total_tokens=int(row.total_tokens),
        cost=float(row.cost),
    )


async def _rows(engine: AsyncEngine, sql: str, params: dict[str, Any]) -> list[Any]:
    async with reading(engine) as conn:
        return list(await conn.execute(text(sql), params))


async def time_series(engine: AsyncEngine, scope: Scope, bucket: TimeBucket) -> list[Bucket]:
    """One bucket per ``bucket`` step touched by the range, oldest first, empty ones
    included with zero counts and null percentiles. The first and last buckets count only
    what falls inside the range. Raises InvalidArgument past MAX_BUCKETS."""
    starts = bucket_starts(scope.start, scope.end, bucket)
    split = await analytics_rollups.rollup_split(engine, scope)
    if split is not None:
        return await analytics_rollups.time_series(
            engine, scope, split, starts, _INTERVAL_SQL[bucket], _STEPS[bucket]
        )
    spans, traces = scope.wheres()
    step = _INTERVAL_SQL[bucket]
    params = spans.params | {"first": starts[0], "last": starts[-1]}
    sql = f"""
        WITH b AS (
            SELECT generate_series(CAST(:first AS timestamptz), CAST(:last AS timestamptz),
                                   {step}) AS bucket
        ), tf AS ({_trace_family(traces, bucket)}), sf AS ({_span_family(spans, bucket)})
        SELECT b.bucket, {_MEASURE_COLUMNS}
        FROM b LEFT JOIN tf ON tf.bucket = b.bucket LEFT JOIN sf ON sf.bucket = b.bucket
        ORDER BY b.bucket"""
    size = _STEPS[bucket]
    return [
        Bucket(row.bucket, row.bucket + size, _measures(row))
        for row in await _rows(engine, sql, params)
    ]


async def totals(engine: AsyncEngine, scope: Scope) -> Measures:
    """The same measures as a bucket, over the whole range."""
    split = await analytics_rollups.rollup_split(engine, scope)
    if split is not None:
        return await analytics_rollups.totals(engine, scope, split)
    spans, traces = scope.wheres()
    sql = (
        f"SELECT {_MEASURE_COLUMNS} FROM ({_trace_family(traces, None)}) tf"
        f" CROSS JOIN ({_span_family(spans, None)}) sf"
    )
    (row,) = await _rows(engine, sql, spans.params)
    return _measures(row)


async def groups(engine: AsyncEngine, scope: Scope, by: GroupBy, limit: int) -> list[Group]:
    """Spans grouped by model, kind or name, most spans first (then by key), at most
    ``limit`` (1 to MAX_LIMIT) groups. Spans without a model are left out of MODEL
    groups. Latency percentiles are of span durations, finished spans only."""
    check_limit(limit)
    if analytics_rollups.groups_from_rollups(by):
        split = await analytics_rollups.rollup_split(engine, scope)
        if split is not None:
            return await analytics_rollups.groups(engine, scope, split, by, limit)
    where, _ = scope.wheres()
    key = _GROUP_KEYS[by]
    if by is GroupBy.MODEL:
        where.add("s.model IS NOT NULL")
    sql = f"""
        SELECT {key} AS group_key, count(*) AS span_count,
            count(*) FILTER (WHERE s.status = 'ERROR') AS error_count,
            {_PERCENTILES.format(_SPAN_MS)} AS span_ms, {_USAGE}
        FROM spans s WHERE {where.sql}
        GROUP BY 1 ORDER BY span_count DESC, group_key LIMIT {where.bind(limit)}"""
    return [
        Group(
            key=row.group_key,
            span_count=int(row.span_count),
            error_count=int(row.error_count),
            latency=Percentiles.of(row.span_ms),
            input_tokens=int(row.input_tokens),
            output_tokens=int(row.output_tokens),
            total_tokens=int(row.total_tokens),
            cost=float(row.cost),
        )
        for row in await _rows(engine, sql, where.params)
    ]


async def _top_spans(engine: AsyncEngine, where: Where, measure: str, limit: int) -> list[SpanData]:
    # The ranking reads only the narrow columns; the full rows (with their inputs and
    # outputs) are fetched for the winners alone.
    sql = f"""
        SELECT {SPAN_COLUMNS} FROM (
            SELECT s.project_id, s.trace_id, s.span_id, {measure} AS measure
            FROM spans s WHERE {where.sql}
            ORDER BY measure DESC, s.trace_id, s.span_id LIMIT {where.bind(check_limit(limit))}
        ) top JOIN spans USING (project_id, trace_id, span_id)
        ORDER BY top.measure DESC, trace_id, span_id"""
    async with reading(engine) as conn:
        rows = (await conn.execute(text(sql), where.params)).mappings()
        return [SpanData.from_row(row) for row in rows]


async def slowest_spans(engine: AsyncEngine, scope: Scope, limit: int) -> list[SpanData]:
    """The finished spans with the longest durations, longest first."""
    where, _ = scope.wheres()
    where.add("s.end_time IS NOT NULL")
    return await _top_spans(engine, where, "s.end_time - s.start_time", limit)


async def costliest_spans(engine: AsyncEngine, scope: Scope, limit: int) -> list[SpanData]:
    """The model calls (LLM and EMBEDDING spans) with the highest cost, highest first;
    the spans the cost measures add up."""
    where, _ = scope.wheres()
    where.add(_MODEL_CALL)
    where.add("s.cost IS NOT NULL")
    return await _top_spans(engine, where, "s.cost", limit)
