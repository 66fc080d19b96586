"""The async SQLAlchemy engine (asyncpg) and how each process gets its database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from agenttrace.settings import Settings
from storage.embedded_postgres import EmbeddedPostgres


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
