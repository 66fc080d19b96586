"""The async SQLAlchemy engine (asyncpg) and how each process gets its database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from agenttrace.settings import Settings
from storage.embedded_postgres import EmbeddedPostgres

log = structlog.get_logger(__name__)


def sqlstate(exc: DBAPIError) -> str | None:
    """PostgreSQL's SQLSTATE code of a database error, if it carries one."""
    for source in (exc.orig, getattr(exc.orig, "__cause__", None)):
        state = getattr(source, "sqlstate", None) or getattr(source, "pgcode", None)
        if isinstance(state, str):
            return state
    return None


def to_async_url(url: str) -> str:
    """Accepts the usual ``postgresql://`` URL and selects the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"AGENTTRACE_DATABASE_URL must be a postgresql:// URL, got {url!r}")


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured database, or the embedded one started for as long as this lasts."""
    if settings.database_url is not None:
        yield to_async_url(settings.database_url)
        return
    embedded = EmbeddedPostgres(settings.resolved_data_dir)
    try:
        yield embedded.start()
    finally:
        embedded.stop()


def create_engine(
    url: str, *, pool_size: int, statement_timeout_ms: int | None = None
) -> AsyncEngine:
    # UTC sessions: date_bin and generate_series in analytics must agree on day borders.
    server_settings = {"application_name": "agenttrace", "timezone": "UTC"}
    if statement_timeout_ms is not None:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # Traces and spans are written with hand-tuned SQL; no ORM identity map is involved.
        connect_args={"server_settings": server_settings},
    )


DATABASE_FAILURES = (DBAPIError, OSError, TimeoutError)
"""What a query raises when PostgreSQL is down, unreachable or failing (a refused, reset
or timed-out connection, or an error of its own): where a cache can answer from what it
knew, it does."""


async def wait_for_database(engine: AsyncEngine) -> None:
    """Returns once PostgreSQL answers. Until then it waits, with backoff and a log line per
    wait, instead of failing the process's start: in a deployment the database may come up
    after the services that use it."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(DATABASE_FAILURES),
        wait=wait_exponential(multiplier=0.25, max=5),
        before_sleep=lambda state: log.warning(
            "startup.waiting_for_database",
            attempt=state.attempt_number,
            error=repr(state.outcome.exception() if state.outcome else None),
        ),
    ):
        with attempt:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))


@asynccontextmanager
async def in_transaction(target: AsyncEngine | AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """A connection to work on: the caller's own (its transaction decides), or a new
    transaction of the engine, committed when the block ends."""
    if isinstance(target, AsyncConnection):
        yield target
        return
    async with target.begin() as conn:
        yield conn
