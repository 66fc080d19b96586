"""Deletes traces past their project's retention, in small batches, without long locks.

A trace's age is its start: a trace that started before the cut-off goes whole, with its
spans and annotations (never half a trace). Each batch is one short transaction of at
most ``batch_traces`` traces, taking row locks in the storage worker's order (see
resolvers.trace_edits.delete_traces), so ingest goes on storing new spans meanwhile.
After a run that deleted anything, ``VACUUM`` makes the space reusable for new rows
(PostgreSQL keeps a table's files and fills them again rather than returning them to
the operating system; the table stops growing until the freed space is used up).

Only one process runs it at a time: each run takes a PostgreSQL advisory lock, so any
number of workers may schedule it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cache.keys import project_stats_key, trace_key
from cache.store import Cache
from resolvers.trace_edits import MAX_TRACES_PER_DELETE, delete_traces
from storage.retention import database_now, expired_traces, projects_with_retention

log = structlog.get_logger("agenttrace.retention")

ADVISORY_LOCK = 0x6167_7472_6574  # "agtret": one key for the whole cluster
DEFAULT_BATCH_TRACES = 500


@dataclass(slots=True)
class RetentionReport:
    ran: bool = True
    """False when another process held the lock."""
    deleted_traces: dict[uuid.UUID, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.deleted_traces.values())


async def enforce_retention(
    engine: AsyncEngine,
    default_days: int,
    batch_traces: int = DEFAULT_BATCH_TRACES,
    cache: Cache | None = None,
) -> RetentionReport:
    """One run over every project with a retention (its own, else ``default_days``;
    0 keeps everything). The cut-off is the database's clock, so a process with a wrong
    clock cannot delete early."""
    if not 0 < batch_traces <= MAX_TRACES_PER_DELETE:
        raise ValueError(f"batch_traces must be 1..{MAX_TRACES_PER_DELETE}")
    started = time.monotonic()
    report = RetentionReport()
    async with engine.connect() as lock_conn:
        locked = False
        try:
            locked = (
                await lock_conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK}
                )
            ).scalar_one()
            await lock_conn.commit()
            if not locked:
                return RetentionReport(ran=False)
            await _delete_expired(engine, default_days, batch_traces, cache, report)
        finally:
            await _release(lock_conn, locked)
    report.seconds = time.monotonic() - started
    return report


async def _delete_expired(
    engine: AsyncEngine,
    default_days: int,
    batch_traces: int,
    cache: Cache | None,
    report: RetentionReport,
) -> None:
    now = await database_now(engine)
    for project, days in await projects_with_retention(engine, default_days):
        cutoff = now - timedelta(days=days)
        deleted = 0
        while batch := await expired_traces(engine, project, cutoff, batch_traces):
            deleted += await delete_traces(engine, batch)
            if cache is not None:  # the read caches must not serve deleted traces
                await _forget(cache, batch)
        if deleted:
            report.deleted_traces[project] = deleted
            log.info(
                "retention.deleted",
                project_id=str(project),
                traces=deleted,
                cutoff=cutoff.isoformat(),
                retention_days=days,
            )
    if report.total:
        await _vacuum(engine)


async def _release(conn: AsyncConnection, locked: bool) -> None:
    """Unlocks, or, when that fails (or the lock's state is unknown after a cancellation),
    drops the connection: a pooled connection still holding the lock would make every
    later run skip, cluster-wide, in silence."""
    try:
        if locked:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK})
            await conn.commit()
            return
    except BaseException:
        await conn.invalidate()
        raise
    if conn.in_transaction():  # cancelled between taking the lock and its commit
        await conn.invalidate()


async def _forget(cache: Cache, keys: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    try:
        await cache.invalidate([trace_key(p, t) for p, t in keys] + [project_stats_key(keys[0][0])])
    except Exception as exc:  # noqa: BLE001  the cache must never stop the job; entries expire
        log.warning("retention.cache_invalidate_failed", error=repr(exc))


async def _vacuum(engine: AsyncEngine) -> None:
    """VACUUM cannot run in a transaction block; an autocommit connection runs it. It
    takes no lock that blocks inserts or reads."""
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("spans", "traces", "annotations"):
            await autocommit.execute(text(f"VACUUM (ANALYZE) {table}"))


async def run_retention_forever(
    engine: AsyncEngine,
    default_days: int,
    interval_s: float,
    stop: asyncio.Event,
    cache: Cache | None = None,
) -> None:
    """Runs ``enforce_retention`` every ``interval_s`` seconds until ``stop`` is set; an
    error is logged and the next run tries again."""
    while not stop.is_set():
        try:
            report = await enforce_retention(engine, default_days, cache=cache)
            if report.ran and report.total:
                log.info("retention.run", traces=report.total, seconds=round(report.seconds, 2))
        except Exception:  # a failed run must not end the worker; the next one retries
            log.exception("retention.failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
