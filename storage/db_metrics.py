"""PostgreSQL as the metrics see it: statement durations and connections in use, per
engine ("write": ingest-side and mutations; "query": the API's reads)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

QUERY_SECONDS = Histogram(
    "agenttrace_db_query_seconds",
    "Time of one SQL statement, by engine",
    ["engine"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
POOL_IN_USE = Gauge(
    "agenttrace_db_pool_connections_in_use", "Connections checked out of the pool", ["engine"]
)
POOL_SIZE = Gauge("agenttrace_db_pool_size", "Connections the pool keeps open", ["engine"])

_STARTED = "agenttrace_started"


def instrument_engine(engine: AsyncEngine, name: str) -> None:
    sync_engine = engine.sync_engine
    histogram = QUERY_SECONDS.labels(name)

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        conn.info.setdefault(_STARTED, []).append(time.perf_counter())

    def after(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        started = conn.info.get(_STARTED)
        if started:
            histogram.observe(time.perf_counter() - started.pop())

    event.listen(sync_engine, "before_cursor_execute", before)
    event.listen(sync_engine, "after_cursor_execute", after)
    pool: Any = sync_engine.pool
    POOL_IN_USE.labels(name).set_function(lambda: float(pool.checkedout()))
    POOL_SIZE.labels(name).set_function(lambda: float(pool.size()))
