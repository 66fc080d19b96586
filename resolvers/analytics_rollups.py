"""Analytics over long ranges, read from the per-minute rollups (storage/rollups.py).

resolvers/analytics.py asks ``rollup_split`` first. A scope is answered from rollups when
it has no span filter, its whole minutes span at least MIN_ROLLUP_RANGE, and its project's
rollups are complete (backfilled by the analytics worker). Its whole minutes up to
RAW_TAIL before now (and before what the worker has marked) come from the rollups (the
hourly rows for its whole hours, unless a minute of the hour is dirty or the buckets are
minutes; the minute rows around them), except the minutes marked dirty and not yet
recomputed; those, and the rest of the range (a partial minute at either end, the last
few minutes) come from the raw rows, as before. The answer has the same shape: counts, token and cost
sums are exact (the same sums, in another order); latency percentiles come from the
merged histograms, within storage.rollups.RELATIVE_ERROR of ``percentile_cont``.
Grouping by NAME is not in the rollups and stays on the raw rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.filters import Conditions
from resolvers.reading import reading
from storage.rollups import histogram_percentiles, hour_of, in_range, latency_bucket_sql

if TYPE_CHECKING:
    from resolvers.analytics import Bucket, Group, GroupBy, Measures, Scope

MIN_ROLLUP_RANGE = timedelta(hours=6)
"""Shorter ranges read few enough raw rows, and their percentiles stay exact."""
RAW_TAIL = timedelta(minutes=5)
"""The most recent minutes always come from the raw rows: a span stored in the last few
seconds may not be marked yet (the worker marks every analytics_flush_interval_s), and a
long span is stored (at its end) minutes after the minute it starts in."""

_FRACTIONS = (0.5, 0.95, 0.99)
_MODEL_CALL_KINDS = "('LLM', 'EMBEDDING')"
_ORIGIN_SQL = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"
_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Split:
    """``[start, end)``: the whole minutes read from rollups; the rest of the scope is
    read from the raw rows."""

    start: datetime
    end: datetime


def _floor_minute(moment: datetime) -> datetime:
    return _EPOCH + ((moment - _EPOCH) // _MINUTE) * _MINUTE


def candidate_split(scope: Scope, fresh_until: datetime) -> Split | None:
    """The rollup part of ``scope``, given that rollups may hold everything stored before
    ``fresh_until``; None when it is not worth reading."""
    if scope.conditions != Conditions():
        return None
    start = _floor_minute(scope.start)
    if start < scope.start:
        start += _MINUTE
    end = min(_floor_minute(scope.end), _floor_minute(fresh_until) - RAW_TAIL)
    if end - start < MIN_ROLLUP_RANGE:
        return None
    return Split(start, end)


async def rollup_split(engine: AsyncEngine, scope: Scope) -> Split | None:
    """Where ``scope`` may read rollups; None: read it all from the raw rows."""
    now = datetime.now(UTC)
    if candidate_split(scope, now) is None:
        return None  # not worth a round trip
    async with reading(engine) as conn:
        marked_through = await conn.scalar(
            text("SELECT marked_through FROM rollup_projects WHERE project_id = :p"),
            {"p": scope.project_id},
        )
    if marked_through is None:
        return None  # the worker has not backfilled this project (yet)
    # A stopped worker marks nothing: what was stored since is read raw, not missed.
    return candidate_split(scope, min(now, marked_through))


def _ceil_hour(moment: datetime) -> datetime:
    floor = _EPOCH + ((moment - _EPOCH) // _HOUR) * _HOUR
    return floor if floor == moment else floor + _HOUR


def _params(scope: Scope, split: Split, *, hours: bool = True) -> dict[str, Any]:
    """Bind parameters: the scope, its split, and the whole hours of the split (read
    from the hourly rollups; none when ``hours`` is False, for minute buckets)."""
    hour_start, hour_end = _ceil_hour(split.start), _EPOCH + ((split.end - _EPOCH) // _HOUR) * _HOUR
    if not hours or hour_start >= hour_end:
        hour_start = hour_end = split.start
    return {
        "rp": scope.project_id,
        "r_start": split.start,
        "r_end": split.end,
        "h_start": hour_start,
        "h_end": hour_end,
        "e1_start": scope.start,
        "e1_end": split.start,
        "e2_start": split.end,
        "e2_end": scope.end,
    }


def _rolled(minute_table: str, hour_table: str, columns: str) -> str:
    """The rollup rows that answer for the split's clean minutes, as ``r`` with their
    time as ``at``: an hour's row where none of its minutes is dirty, else the minute
    rows of its clean minutes; minute rows at the split's edges. Each branch reads a
    range of its (project_id, time) index."""
    clean = (
        "NOT EXISTS (SELECT 1 FROM rollup_dirty_minutes d WHERE d.project_id = r.project_id"
        " AND d.minute = r.minute)"
    )

    def minutes(low: str, high: str) -> str:
        return (
            f"SELECT r.minute AS at, {columns} FROM {minute_table} r WHERE r.project_id = :rp"
            f" AND r.minute >= :{low} AND r.minute < :{high} AND {clean}"
        )

    dirty_hours = (
        f"(SELECT DISTINCT d.project_id, {hour_of('d.minute')} AS minute"
        " FROM rollup_dirty_minutes d"
        " WHERE d.project_id = :rp AND d.minute >= :h_start AND d.minute < :h_end) AS dh"
    )
    in_dirty_hours = in_range(minute_table, "r", "r.*", "minute", "dh", "1 hour")
    parts = [
        minutes("r_start", "h_start"),
        minutes("h_end", "r_end"),
        f"SELECT r.minute AS at, {columns} FROM {dirty_hours} {in_dirty_hours} WHERE {clean}",
        f"SELECT r.hour AS at, {columns} FROM {hour_table} r WHERE r.project_id = :rp"
        " AND r.hour >= :h_start AND r.hour < :h_end AND NOT EXISTS (SELECT 1 FROM"
        " rollup_dirty_minutes d WHERE d.project_id = r.project_id AND d.minute >= r.hour"
        " AND d.minute < r.hour + INTERVAL '1 hour')",
    ]
    return f"({' UNION ALL '.join(parts)}) AS r"


_ROLLED_SPANS = _rolled(
    "span_rollups",
    "span_rollups_hourly",
    "r.model, r.kind, r.status, r.span_count, r.error_count, r.input_tokens, r.output_tokens,"
    " r.total_tokens, r.cost, r.latency_buckets, r.latency_counts",
)
_ROLLED_TRACES = _rolled(
    "trace_rollups",
    "trace_rollups_hourly",
    "r.trace_count, r.error_trace_count, r.latency_buckets, r.latency_counts",
)


def _raw(table: str, alias: str, columns: str) -> str:
    """The rows of ``table`` the rollups do not answer for: the scope outside the split
    (two ranges of the (project_id, start_time) index, each read on its own), and the
    split's dirty minutes."""
    ranges = (("e1_start", "e1_end"), ("e2_start", "e2_end"))
    parts = [
        f"SELECT {columns} FROM {table} {alias} WHERE {alias}.project_id = :rp"
        f" AND {alias}.start_time >= :{low} AND {alias}.start_time < :{high}"
        for low, high in ranges
    ]
    dirty = (
        "(SELECT project_id, minute FROM rollup_dirty_minutes WHERE project_id = :rp"
        " AND minute >= :r_start AND minute < :r_end) AS d"
    )
    parts.append(
        f"SELECT {columns} FROM {dirty}"
        f" {in_range(table, alias, columns, 'start_time', 'd', '1 minute')}"
    )
    return f"({' UNION ALL '.join(parts)}) AS {alias}"


_RAW_SPANS = _raw(
    "spans",
    "s",
    "s.start_time, s.end_time, s.kind, s.status, s.model, s.input_tokens, s.output_tokens,"
    " s.total_tokens, s.cost",
)
_RAW_TRACES = _raw("traces", "t", "t.start_time, t.error_count, t.duration_ms")
_SPAN_MS = "date_part('epoch', s.end_time - s.start_time) * 1000"


def _model_call(column: str, kind: str) -> str:
    return f"CASE WHEN {kind} IN {_MODEL_CALL_KINDS} THEN {column} ELSE 0 END"


def _span_measures(rolled_key: str, raw_key: str, rolled_where: str, raw_where: str) -> str:
    """Span counts and sums per key: the rollups' rows and the raw rows, added up."""
    raw_total = (
        "COALESCE(s.total_tokens, COALESCE(s.input_tokens, 0) + COALESCE(s.output_tokens, 0))"
    )
    return f"""
        SELECT key, CAST(sum(span_count) AS bigint) AS span_count,
            CAST(sum(error_count) AS bigint) AS error_count,
            sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
            sum(total_tokens) AS total_tokens, sum(cost) AS cost
        FROM (
            SELECT {rolled_key} AS key, r.span_count, r.error_count,
                {_model_call("r.input_tokens", "r.kind")} AS input_tokens,
                {_model_call("r.output_tokens", "r.kind")} AS output_tokens,
                {_model_call("r.total_tokens", "r.kind")} AS total_tokens,
                {_model_call("r.cost", "r.kind")} AS cost
            FROM {_ROLLED_SPANS} WHERE {rolled_where}
            UNION ALL
            SELECT {raw_key}, 1, CASE WHEN s.status = 'ERROR' THEN 1 ELSE 0 END,
                {_model_call("COALESCE(s.input_tokens, 0)", "s.kind")},
                {_model_call("COALESCE(s.output_tokens, 0)", "s.kind")},
                {_model_call(raw_total, "s.kind")},
                {_model_call("COALESCE(s.cost, 0)", "s.kind")}
            FROM {_RAW_SPANS} WHERE {raw_where}
        ) AS x GROUP BY key"""


def _trace_measures(rolled_key: str, raw_key: str) -> str:
    return f"""
        SELECT key, CAST(sum(trace_count) AS bigint) AS trace_count,
            CAST(sum(error_trace_count) AS bigint) AS error_trace_count
        FROM (
            SELECT {rolled_key} AS key, r.trace_count, r.error_trace_count
            FROM {_ROLLED_TRACES}
            UNION ALL
            SELECT {raw_key}, 1, CASE WHEN t.error_count > 0 THEN 1 ELSE 0 END
            FROM {_RAW_TRACES}
        ) AS x GROUP BY key"""


def _histograms(rolled: str, raw: str) -> str:
    """Per key, the merged latency histogram: bucket indexes ascending, and counts.
    ``rolled`` and ``raw`` each select (key, bucket, n)."""
    return f"""
        SELECT key, array_agg(bucket ORDER BY bucket) AS buckets,
            array_agg(n ORDER BY bucket) AS counts
        FROM (
            SELECT key, bucket, CAST(sum(n) AS bigint) AS n
            FROM ({rolled} UNION ALL {raw}) AS x GROUP BY key, bucket
        ) AS y GROUP BY key"""


def _span_histograms(rolled_key: str, raw_key: str, rolled_where: str, raw_where: str) -> str:
    return _histograms(
        f"SELECT {rolled_key} AS key, h.bucket, h.n FROM {_ROLLED_SPANS}"
        " CROSS JOIN LATERAL unnest(r.latency_buckets, r.latency_counts) AS h(bucket, n)"
        f" WHERE {rolled_where}",
        f"SELECT {raw_key}, {latency_bucket_sql(_SPAN_MS)}, CAST(1 AS bigint)"
        f" FROM {_RAW_SPANS} WHERE s.end_time IS NOT NULL AND {raw_where}",
    )


def _trace_histograms(rolled_key: str, raw_key: str) -> str:
    return _histograms(
        f"SELECT {rolled_key} AS key, h.bucket, h.n FROM {_ROLLED_TRACES}"
        " CROSS JOIN LATERAL unnest(r.latency_buckets, r.latency_counts) AS h(bucket, n)",
        f"SELECT {raw_key}, {latency_bucket_sql('t.duration_ms')}, CAST(1 AS bigint)"
        f" FROM {_RAW_TRACES} WHERE t.duration_ms IS NOT NULL",
    )


_MEASURE_COLUMNS = """COALESCE(tm.trace_count, 0) AS trace_count,
    COALESCE(tm.error_trace_count, 0) AS error_trace_count,
    th.buckets AS trace_buckets, th.counts AS trace_counts,
    COALESCE(sm.span_count, 0) AS span_count, COALESCE(sm.error_count, 0) AS error_span_count,
    COALESCE(sm.input_tokens, 0) AS input_tokens, COALESCE(sm.output_tokens, 0) AS output_tokens,
    COALESCE(sm.total_tokens, 0) AS total_tokens, COALESCE(sm.cost, 0) AS cost"""


def _percentiles(buckets: list[int] | None, counts: list[int] | None) -> list[float | None] | None:
    if not buckets or not counts:
        return None
    found = histogram_percentiles(buckets, counts, _FRACTIONS)
    if found is None:
        return None
    values: list[float | None] = list(found)
    return values


def _measures(row: Any) -> Measures:
    from resolvers.analytics import Measures, Percentiles

    return Measures(
        trace_count=int(row.trace_count),
        error_trace_count=int(row.error_trace_count),
        trace_latency=Percentiles.of(_percentiles(row.trace_buckets, row.trace_counts)),
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


def _family_joins(rolled_key: str, span_key: str, trace_key: str) -> str:
    return f"""sm AS ({_span_measures(rolled_key, span_key, "TRUE", "TRUE")}),
        tm AS ({_trace_measures(rolled_key, trace_key)}),
        th AS ({_trace_histograms(rolled_key, trace_key)})"""


async def time_series(
    engine: AsyncEngine,
    scope: Scope,
    split: Split,
    starts: list[datetime],
    interval_sql: str,
    size: timedelta,
) -> list[Bucket]:
    """As analytics.time_series, with ``starts`` its bucket starts, ``interval_sql`` and
    ``size`` its bucket width."""
    from resolvers.analytics import Bucket

    def bin_of(column: str) -> str:
        return f"date_bin({interval_sql}, {column}, {_ORIGIN_SQL})"

    sql = f"""
        WITH b AS (
            SELECT generate_series(CAST(:first AS timestamptz), CAST(:last AS timestamptz),
                                   {interval_sql}) AS bucket
        ), {_family_joins(bin_of("r.at"), bin_of("s.start_time"), bin_of("t.start_time"))}
        SELECT b.bucket, {_MEASURE_COLUMNS}
        FROM b LEFT JOIN tm ON tm.key = b.bucket LEFT JOIN th ON th.key = b.bucket
            LEFT JOIN sm ON sm.key = b.bucket
        ORDER BY b.bucket"""
    # An hour's row cannot be cut into minute buckets.
    hours = size >= _HOUR
    params = _params(scope, split, hours=hours) | {"first": starts[0], "last": starts[-1]}
    return [
        Bucket(row.bucket, row.bucket + size, _measures(row))
        for row in await _rows(engine, sql, params)
    ]


async def totals(engine: AsyncEngine, scope: Scope, split: Split) -> Measures:
    """As analytics.totals."""
    sql = f"""
        WITH one AS (SELECT 0 AS key), {_family_joins("0", "0", "0")}
        SELECT {_MEASURE_COLUMNS}
        FROM one LEFT JOIN tm USING (key) LEFT JOIN th USING (key) LEFT JOIN sm USING (key)"""
    (row,) = await _rows(engine, sql, _params(scope, split))
    return _measures(row)


_GROUP_COLUMNS = {"MODEL": ("r.model", "s.model"), "KIND": ("r.kind", "s.kind")}


def groups_from_rollups(by: GroupBy) -> bool:
    """Whether the rollups hold this grouping (model and kind; not name)."""
    return by.value in _GROUP_COLUMNS


async def groups(
    engine: AsyncEngine, scope: Scope, split: Split, by: GroupBy, limit: int
) -> list[Group]:
    """As analytics.groups, for MODEL and KIND."""
    from resolvers.analytics import Group, Percentiles

    rolled_key, raw_key = _GROUP_COLUMNS[by.value]
    rolled_where = raw_where = "TRUE"
    if by.value == "MODEL":
        rolled_where, raw_where = "r.model IS NOT NULL", "s.model IS NOT NULL"
    sql = f"""
        WITH sm AS ({_span_measures(rolled_key, raw_key, rolled_where, raw_where)}),
        top AS (SELECT * FROM sm ORDER BY span_count DESC, key LIMIT :limit),
        sh AS ({_span_histograms(rolled_key, raw_key, rolled_where, raw_where)})
        SELECT top.*, sh.buckets, sh.counts
        FROM top LEFT JOIN sh ON sh.key = top.key
        ORDER BY top.span_count DESC, top.key"""
    params = _params(scope, split) | {"limit": limit}
    return [
        Group(
            key=row.key,
            span_count=int(row.span_count),
            error_count=int(row.error_count),
            latency=Percentiles.of(_percentiles(row.buckets, row.counts)),
            input_tokens=int(row.input_tokens),
            output_tokens=int(row.output_tokens),
            total_tokens=int(row.total_tokens),
            cost=float(row.cost),
        )
        for row in await _rows(engine, sql, params)
    ]
