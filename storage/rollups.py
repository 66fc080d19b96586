"""Per-minute analytics rollups, recomputed from the raw rows, and their latency buckets.

A rollup row is always a function of the ``spans`` (or ``traces``) of one project and
minute: a touched minute is deleted and computed again from the raw rows, never adjusted
by a delta, so a replayed or duplicated event cannot count anything twice (the same rule
as the trace aggregates in workers/span_store.py). Touched minutes are first marked in
``rollup_dirty_minutes`` (coalesced: a busy minute is one row however many spans land in
it), then recomputed once they have settled (SETTLE after their end; a late span makes
an old minute dirty again). Readers take a dirty minute from the raw rows. Recomputes of
one (project, minute) are serialised by a transaction-level advisory lock, so two
workers cannot leave the result of an older snapshot behind.

Latency histograms use fixed, log-spaced buckets: bucket ``i`` holds the durations in
``(GAMMA**(i-1), GAMMA**i]`` milliseconds and stands for ``2 * GAMMA**i / (GAMMA + 1)``,
which is within RELATIVE_ERROR of every value in it. Counts merge exactly (a sum), so a
percentile read from merged rollups lies within RELATIVE_ERROR of PostgreSQL's exact
``percentile_cont`` over the same values. Zero (and the odd negative duration a client
may send) go to ZERO_BUCKET, read back as 0.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

GAMMA = 1.05
"""Each latency bucket is 5% wider than the one before it."""
RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1)
"""About 2.44%: how far a percentile read from the histograms can be from the exact one."""
ZERO_BUCKET = -32768
"""Durations of zero or less (smallint's minimum: no positive duration maps there)."""
_LN_GAMMA = math.log(GAMMA)

MINUTE_ORIGIN_SQL = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"


def minute_of(expr: str) -> str:
    """SQL for the UTC minute ``expr`` (a timestamptz) falls in."""
    return f"date_bin(INTERVAL '1 minute', {expr}, {MINUTE_ORIGIN_SQL})"


def latency_bucket_sql(ms: str) -> str:
    """SQL for the bucket index of ``ms`` (a double precision of milliseconds, not NULL)."""
    return (
        f"(CASE WHEN {ms} > 0 THEN CAST(ceil(ln({ms}) / {_LN_GAMMA!r}) AS smallint)"
        f" ELSE CAST({ZERO_BUCKET} AS smallint) END)"
    )


def latency_bucket(ms: float) -> int:
    """The bucket index of ``ms``, as latency_bucket_sql computes it."""
    return math.ceil(math.log(ms) / _LN_GAMMA) if ms > 0 else ZERO_BUCKET


def bucket_value(bucket: int) -> float:
    """The duration (ms) a bucket stands for."""
    return 0.0 if bucket == ZERO_BUCKET else 2 * GAMMA**bucket / (GAMMA + 1)


def histogram_percentiles(
    buckets: Sequence[int], counts: Sequence[int], fractions: Sequence[float]
) -> list[float] | None:
    """``percentile_cont`` of each fraction over the histogram (buckets ascending), each
    within RELATIVE_ERROR of the exact answer; None when the histogram is empty.

    The ranks are exact, since the counts are: the two values percentile_cont
    interpolates between are in known buckets, and interpolating between their bucket
    values keeps the relative error (both weights are positive)."""
    total = sum(counts)
    if total == 0:
        return None
    ends: list[int] = []  # ends[k]: how many values are in buckets[0..k]
    running = 0
    for n in counts:
        running += n
        ends.append(running)

    def value_at(rank: int) -> float:
        for k, end in enumerate(ends):
            if rank < end:
                return bucket_value(buckets[k])
        return bucket_value(buckets[-1])

    found = []
    for fraction in fractions:
        position = fraction * (total - 1)
        low, high = math.floor(position), math.ceil(position)
        low_value, high_value = value_at(low), value_at(high)
        found.append(low_value + (position - low) * (high_value - low_value))
    return found


Minute = tuple[uuid.UUID, datetime]
"""A project and a minute (UTC, on the minute)."""

_DIRTY = """dirty AS (
    SELECT DISTINCT * FROM unnest(CAST(:project_id AS uuid[]), CAST(:minute AS timestamptz[]))
        AS d(project_id, minute))"""


def hour_of(expr: str) -> str:
    """SQL for the UTC hour ``expr`` (a timestamptz) falls in."""
    return f"date_bin(INTERVAL '1 hour', {expr}, {MINUTE_ORIGIN_SQL})"


# Locks each minute and each hour it is in, in one order (sorted keys), so that two
# recomputes never wait on each other in a cycle, and two recomputes of minutes of one
# hour rebuild that hour one after the other. A key mixes the project and the epoch
# seconds of the minute (or hour, marked 'h'): session time zones cannot change it.
_LOCK_MINUTES = text(
    f"""
    WITH {_DIRTY}, keyed AS (
        SELECT d.project_id::text || '/' || CAST(extract(epoch FROM d.minute) AS bigint)::text
            AS name FROM dirty d
        UNION
        SELECT d.project_id::text || '/h'
            || CAST(extract(epoch FROM {hour_of("d.minute")}) AS bigint)::text FROM dirty d
    )
    SELECT count(pg_advisory_xact_lock(k)) FROM (
        SELECT DISTINCT hashtextextended(name, 0) AS k FROM keyed ORDER BY k) AS keys
    """
)

_HOURS = f"""hours AS (
    SELECT DISTINCT project_id, {hour_of("minute")} AS hour FROM dirty)"""

_DELETE_MINUTES = text(
    f"""
    WITH {_DIRTY}, {_HOURS}, spans_gone AS (
        DELETE FROM span_rollups r USING dirty d
        WHERE r.project_id = d.project_id AND r.minute = d.minute
    ), traces_gone AS (
        DELETE FROM trace_rollups r USING dirty d
        WHERE r.project_id = d.project_id AND r.minute = d.minute
    ), span_hours_gone AS (
        DELETE FROM span_rollups_hourly r USING hours h
        WHERE r.project_id = h.project_id AND r.hour = h.hour)
    DELETE FROM trace_rollups_hourly r USING hours h
    WHERE r.project_id = h.project_id AND r.hour = h.hour
    """
)

_SPAN_MS = "date_part('epoch', s.end_time - s.start_time) * 1000"


def in_range(table: str, alias: str, columns: str, time: str, outer: str, width: str) -> str:
    """``CROSS JOIN LATERAL`` the rows of ``table`` of ``outer``'s project whose ``time``
    is in ``[outer.minute, + width)``: one index range scan per outer row. OFFSET 0 keeps
    the planner from flattening it into a join on the project alone, which would read
    every row of the project once per outer row."""
    return (
        f"CROSS JOIN LATERAL (SELECT {columns} FROM {table} {alias}"
        f" WHERE {alias}.project_id = {outer}.project_id AND {alias}.{time} >= {outer}.minute"
        f" AND {alias}.{time} < {outer}.minute + INTERVAL '{width}' OFFSET 0) AS {alias}"
    )


# Sums of doubles are added in a fixed order (ORDER BY in the aggregate), so that a
# recompute of unchanged rows writes the very same bits, whatever the plan.

_SPAN_COLUMNS = (
    "s.project_id, s.model, s.kind, s.status, s.start_time, s.end_time, s.input_tokens,"
    " s.output_tokens, s.total_tokens, s.cost, s.trace_id, s.span_id"
)
_TRACE_COLUMNS = "t.project_id, t.trace_id, t.duration_ms, t.error_count"

_INSERT_SPAN_ROLLUPS = text(
    f"""
    WITH {_DIRTY}, per_bucket AS (
        SELECT s.project_id, d.minute, s.model, s.kind, s.status,
            CASE WHEN s.end_time IS NOT NULL THEN {latency_bucket_sql(_SPAN_MS)} END AS bucket,
            count(*) AS n,
            count(*) FILTER (WHERE s.status = 'ERROR') AS errors,
            COALESCE(sum(s.input_tokens), 0) AS input_tokens,
            COALESCE(sum(s.output_tokens), 0) AS output_tokens,
            COALESCE(sum(COALESCE(s.total_tokens,
                                  COALESCE(s.input_tokens, 0) + COALESCE(s.output_tokens, 0))),
                     0) AS total_tokens,
            COALESCE(sum(s.cost ORDER BY s.trace_id, s.span_id), 0) AS cost,
            COALESCE(sum({_SPAN_MS} ORDER BY s.trace_id, s.span_id), 0) AS ms_sum
        FROM dirty d {in_range("spans", "s", _SPAN_COLUMNS, "start_time", "d", "1 minute")}
        GROUP BY 1, 2, 3, 4, 5, 6
    )
    INSERT INTO span_rollups (
        project_id, minute, model, kind, status, span_count, error_count, finished_count,
        input_tokens, output_tokens, total_tokens, cost, duration_ms_sum, latency_buckets,
        latency_counts)
    SELECT project_id, minute, model, kind, status, sum(n), sum(errors),
        COALESCE(sum(n) FILTER (WHERE bucket IS NOT NULL), 0),
        sum(input_tokens), sum(output_tokens), sum(total_tokens), sum(cost ORDER BY bucket),
        sum(ms_sum ORDER BY bucket),
        COALESCE(array_agg(bucket ORDER BY bucket) FILTER (WHERE bucket IS NOT NULL), '{{}}'),
        COALESCE(array_agg(n ORDER BY bucket) FILTER (WHERE bucket IS NOT NULL), '{{}}')
    FROM per_bucket GROUP BY 1, 2, 3, 4, 5
    """
)

_INSERT_TRACE_ROLLUPS = text(
    f"""
    WITH {_DIRTY}, per_bucket AS (
        SELECT t.project_id, d.minute,
            CASE WHEN t.duration_ms IS NOT NULL THEN {latency_bucket_sql("t.duration_ms")}
            END AS bucket,
            count(*) AS n,
            count(*) FILTER (WHERE t.error_count > 0) AS errors,
            COALESCE(sum(t.duration_ms ORDER BY t.trace_id), 0) AS ms_sum
        FROM dirty d {in_range("traces", "t", _TRACE_COLUMNS, "start_time", "d", "1 minute")}
        GROUP BY 1, 2, 3
    )
    INSERT INTO trace_rollups (
        project_id, minute, trace_count, error_trace_count, finished_count, duration_ms_sum,
        latency_buckets, latency_counts)
    SELECT project_id, minute, sum(n), sum(errors),
        COALESCE(sum(n) FILTER (WHERE bucket IS NOT NULL), 0), sum(ms_sum ORDER BY bucket),
        COALESCE(array_agg(bucket ORDER BY bucket) FILTER (WHERE bucket IS NOT NULL), '{{}}'),
        COALESCE(array_agg(n ORDER BY bucket) FILTER (WHERE bucket IS NOT NULL), '{{}}')
    FROM per_bucket GROUP BY 1, 2
    """
)

# An hour's rows are its minutes' rows added up, histograms merged bucket by bucket.
_SPAN_GROUP = "project_id, hour, model, kind, status"
_INSERT_SPAN_HOURS = text(
    f"""
    WITH {_DIRTY}, {_HOURS}, src AS (
        SELECT h.minute AS hour, r.* FROM (SELECT project_id, hour AS minute FROM hours) AS h
            {in_range("span_rollups", "r", "r.*", "minute", "h", "1 hour")}
    ), sums AS (
        SELECT {_SPAN_GROUP}, sum(span_count) AS span_count, sum(error_count) AS error_count,
            sum(finished_count) AS finished_count, sum(input_tokens) AS input_tokens,
            sum(output_tokens) AS output_tokens, sum(total_tokens) AS total_tokens,
            sum(cost ORDER BY minute) AS cost,
            sum(duration_ms_sum ORDER BY minute) AS duration_ms_sum
        FROM src GROUP BY {_SPAN_GROUP}
    ), merged AS (
        SELECT {_SPAN_GROUP}, array_agg(bucket ORDER BY bucket) AS buckets,
            array_agg(n ORDER BY bucket) AS counts
        FROM (
            SELECT {_SPAN_GROUP}, u.bucket, CAST(sum(u.n) AS bigint) AS n
            FROM src CROSS JOIN LATERAL unnest(src.latency_buckets, src.latency_counts)
                AS u(bucket, n)
            GROUP BY {_SPAN_GROUP}, u.bucket) AS b
        GROUP BY {_SPAN_GROUP}
    )
    INSERT INTO span_rollups_hourly (
        project_id, hour, model, kind, status, span_count, error_count, finished_count,
        input_tokens, output_tokens, total_tokens, cost, duration_ms_sum, latency_buckets,
        latency_counts)
    SELECT s.project_id, s.hour, s.model, s.kind, s.status, s.span_count, s.error_count,
        s.finished_count, s.input_tokens, s.output_tokens, s.total_tokens, s.cost,
        s.duration_ms_sum, COALESCE(m.buckets, '{{}}'), COALESCE(m.counts, '{{}}')
    FROM sums s LEFT JOIN merged m ON m.project_id = s.project_id AND m.hour = s.hour
        AND m.model IS NOT DISTINCT FROM s.model AND m.kind = s.kind AND m.status = s.status
    """
)

_INSERT_TRACE_HOURS = text(
    f"""
    WITH {_DIRTY}, {_HOURS}, src AS (
        SELECT h.minute AS hour, r.* FROM (SELECT project_id, hour AS minute FROM hours) AS h
            {in_range("trace_rollups", "r", "r.*", "minute", "h", "1 hour")}
    ), sums AS (
        SELECT project_id, hour, sum(trace_count) AS trace_count,
            sum(error_trace_count) AS error_trace_count, sum(finished_count) AS finished_count,
            sum(duration_ms_sum ORDER BY minute) AS duration_ms_sum
        FROM src GROUP BY project_id, hour
    ), merged AS (
        SELECT project_id, hour, array_agg(bucket ORDER BY bucket) AS buckets,
            array_agg(n ORDER BY bucket) AS counts
        FROM (
            SELECT project_id, hour, u.bucket, CAST(sum(u.n) AS bigint) AS n
            FROM src CROSS JOIN LATERAL unnest(src.latency_buckets, src.latency_counts)
                AS u(bucket, n)
            GROUP BY project_id, hour, u.bucket) AS b
        GROUP BY project_id, hour
    )
    INSERT INTO trace_rollups_hourly (
        project_id, hour, trace_count, error_trace_count, finished_count, duration_ms_sum,
        latency_buckets, latency_counts)
    SELECT s.project_id, s.hour, s.trace_count, s.error_trace_count, s.finished_count,
        s.duration_ms_sum, COALESCE(m.buckets, '{{}}'), COALESCE(m.counts, '{{}}')
    FROM sums s LEFT JOIN merged m USING (project_id, hour)
    """
)

# Marks the minutes a batch of traces touches: where their spans start now, and where
# they started when last rolled up (a span's start may move earlier, leaving its old
# minute). Both sides are read from one snapshot, before the new minutes replace the old.
_MARK_TRACES = text(
    f"""
    WITH touched AS (
        SELECT DISTINCT * FROM unnest(CAST(:project_id AS uuid[]), CAST(:trace_id AS uuid[]))
            AS t(project_id, trace_id)
    ), now_at AS (
        SELECT s.project_id, s.trace_id,
            array_agg(DISTINCT {minute_of("s.start_time")}) AS span_minutes
        FROM touched t CROSS JOIN LATERAL (
            SELECT s.project_id, s.trace_id, s.start_time FROM spans s
            WHERE s.project_id = t.project_id AND s.trace_id = t.trace_id OFFSET 0) AS s
        GROUP BY s.project_id, s.trace_id
    ), before AS (
        SELECT m.project_id, m.span_minutes
        FROM rollup_trace_minutes m JOIN touched USING (project_id, trace_id)
    ), saved AS (
        INSERT INTO rollup_trace_minutes (project_id, trace_id, span_minutes)
        SELECT project_id, trace_id, span_minutes FROM now_at ORDER BY project_id, trace_id
        ON CONFLICT (project_id, trace_id) DO UPDATE SET span_minutes = EXCLUDED.span_minutes
    )
    INSERT INTO rollup_dirty_minutes (project_id, minute)
    SELECT DISTINCT project_id, minute FROM (
        SELECT project_id, unnest(span_minutes) AS minute FROM now_at
        UNION ALL SELECT project_id, unnest(span_minutes) FROM before) AS m
    ORDER BY project_id, minute
    ON CONFLICT DO NOTHING
    """
)

_MARKED_THROUGH = text(
    """
    UPDATE rollup_projects r SET marked_through = GREATEST(r.marked_through, m.at)
    FROM unnest(CAST(:project_id AS uuid[]), CAST(:at AS timestamptz[])) AS m(project_id, at)
    WHERE r.project_id = m.project_id
    """
)

# Deleted traces: their minutes are recomputed without them.
_FORGET_TRACES = text(
    """
    WITH gone AS (
        DELETE FROM rollup_trace_minutes m
        USING unnest(CAST(:project_id AS uuid[]), CAST(:trace_id AS uuid[])) AS t(project_id, trace_id)
        WHERE m.project_id = t.project_id AND m.trace_id = t.trace_id
        RETURNING m.project_id, m.span_minutes
    )
    INSERT INTO rollup_dirty_minutes (project_id, minute)
    SELECT DISTINCT project_id, unnest(span_minutes) FROM gone ORDER BY 1, 2
    ON CONFLICT DO NOTHING
    """
)

# Dirty minutes that have settled (ended at least :settle_s ago, by the database's clock),
# taken for a recompute in this transaction. SKIP LOCKED: another worker's pass takes the
# others. A minute marked again meanwhile waits for this transaction (the key is locked)
# and is then taken by the next pass.
_TAKE_SETTLED = text(
    """
    DELETE FROM rollup_dirty_minutes WHERE (project_id, minute) IN (
        SELECT project_id, minute FROM rollup_dirty_minutes
        WHERE minute + INTERVAL '1 minute' <= now() - make_interval(secs => :settle_s)
        ORDER BY project_id, minute LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING project_id, minute
    """
)

_INCOMPLETE_PROJECTS = text(
    """
    SELECT p.project_id FROM unnest(CAST(:project_id AS uuid[])) AS p(project_id)
    WHERE NOT EXISTS (SELECT 1 FROM rollup_projects r WHERE r.project_id = p.project_id)
    """
)

_TRACK_PROJECT_TRACES = text(
    f"""
    INSERT INTO rollup_trace_minutes (project_id, trace_id, span_minutes)
    SELECT project_id, trace_id, array_agg(DISTINCT {minute_of("start_time")})
    FROM spans WHERE project_id = :project_id GROUP BY project_id, trace_id
    ON CONFLICT (project_id, trace_id) DO UPDATE SET span_minutes = EXCLUDED.span_minutes
    """
)

_PROJECT_MINUTES = text(
    f"""
    SELECT DISTINCT {minute_of("start_time")} AS minute FROM spans
    WHERE project_id = :project_id ORDER BY 1
    """
)

BACKFILL_MINUTES_PER_TRANSACTION = 360
"""Six hours of minutes per backfill transaction: few round trips, and a bounded share of
PostgreSQL's lock table (each minute and hour is an advisory lock until the commit; the
table holds max_locks_per_transaction x max_connections locks for everyone)."""
MINUTES_PER_PASS_TRANSACTION = 360
SETTLE = timedelta(minutes=1)
"""A dirty minute is recomputed once it ended this long ago, so a busy current minute is
recomputed once rather than on every flush; until then analytics read it raw."""


@dataclass(frozen=True, slots=True)
class Recomputed:
    """What a recompute refreshed: per project, the minutes now up to date."""

    minutes: dict[uuid.UUID, list[datetime]]

    @classmethod
    def of(cls, minutes: Iterable[Minute]) -> Recomputed:
        found: dict[uuid.UUID, set[datetime]] = {}
        for project_id, minute in minutes:
            found.setdefault(project_id, set()).add(minute)
        return cls({p: sorted(m) for p, m in found.items()})

    def merged(self, other: Recomputed) -> Recomputed:
        return Recomputed.of(
            [(p, m) for r in (self, other) for p, ms in r.minutes.items() for m in ms]
        )


async def recompute_minutes(conn: AsyncConnection, minutes: Sequence[Minute]) -> None:
    """Replaces the span and trace rollups of ``minutes``, and of the hours they are in,
    by what the raw rows say now, inside the caller's transaction."""
    if not minutes:
        return
    params = {"project_id": [p for p, _ in minutes], "minute": [m for _, m in minutes]}
    await conn.execute(_LOCK_MINUTES, params)
    # Separate statements, so each reads a snapshot taken after the locks were granted.
    await conn.execute(_DELETE_MINUTES, params)
    await conn.execute(_INSERT_SPAN_ROLLUPS, params)
    await conn.execute(_INSERT_TRACE_ROLLUPS, params)
    # Then the hours these minutes are in, from their minute rows (just written).
    await conn.execute(_INSERT_SPAN_HOURS, params)
    await conn.execute(_INSERT_TRACE_HOURS, params)


async def mark_traces(
    conn: AsyncConnection,
    traces: Sequence[tuple[uuid.UUID, uuid.UUID]],
    stored_through: dict[uuid.UUID, datetime] | None = None,
) -> None:
    """Marks dirty every minute that ``traces`` (project, trace id) have spans in, or had
    when last marked, inside the caller's transaction. ``stored_through``: per project,
    the storage time of the newest change among them (rollup_projects.marked_through)."""
    if traces:
        ordered = sorted(set(traces))
        await conn.execute(
            _MARK_TRACES,
            {"project_id": [p for p, _ in ordered], "trace_id": [t for _, t in ordered]},
        )
    if stored_through:
        projects = sorted(stored_through)
        await conn.execute(
            _MARKED_THROUGH,
            {"project_id": projects, "at": [stored_through[p] for p in projects]},
        )


async def forget_traces(
    conn: AsyncConnection, traces: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> None:
    """For a transaction that deletes ``traces`` (project, trace id): marks their minutes
    dirty, so that the rollups lose them too."""
    if not traces:
        return
    ordered = sorted(set(traces))
    await conn.execute(
        _FORGET_TRACES,
        {"project_id": [p for p, _ in ordered], "trace_id": [t for _, t in ordered]},
    )


async def recompute_settled(
    conn: AsyncConnection, settle: timedelta = SETTLE, limit: int = MINUTES_PER_PASS_TRANSACTION
) -> list[Minute]:
    """Takes up to ``limit`` dirty minutes that ended at least ``settle`` ago and
    recomputes them, inside the caller's transaction (a rollback leaves them dirty).
    Returns them."""
    result = await conn.execute(_TAKE_SETTLED, {"settle_s": settle.total_seconds(), "limit": limit})
    minutes: list[Minute] = sorted((row.project_id, row.minute) for row in result)
    await recompute_minutes(conn, minutes)
    return minutes


async def incomplete_projects(
    engine: AsyncEngine, project_ids: Iterable[uuid.UUID]
) -> list[uuid.UUID]:
    """Those of ``project_ids`` whose rollups were never backfilled."""
    async with engine.connect() as conn:
        result = await conn.execute(_INCOMPLETE_PROJECTS, {"project_id": sorted(set(project_ids))})
        return [row.project_id for row in result]


async def backfill_project(engine: AsyncEngine, project_id: uuid.UUID) -> list[Minute]:
    """Rolls up every minute ``project_id`` has spans in, a day of minutes per
    transaction, then marks the project complete (analytics may read its rollups).
    Returns the minutes. Safe beside a running worker: both recompute from the raw rows
    under the same locks."""
    async with engine.begin() as conn:
        await conn.execute(_TRACK_PROJECT_TRACES, {"project_id": project_id})
    async with engine.connect() as conn:
        found = await conn.execute(_PROJECT_MINUTES, {"project_id": project_id})
        minutes: list[Minute] = [(project_id, row.minute) for row in found]
    for at in range(0, len(minutes), BACKFILL_MINUTES_PER_TRANSACTION):
        async with engine.begin() as conn:
            await recompute_minutes(conn, minutes[at : at + BACKFILL_MINUTES_PER_TRANSACTION])
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO rollup_projects (project_id) VALUES (:project_id)"
                " ON CONFLICT (project_id) DO NOTHING"
            ),
            {"project_id": project_id},
        )
    return minutes
