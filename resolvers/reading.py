"""Read connections for the query API, with PostgreSQL's statement timeout turned into an
error the caller can act on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from agenttrace.errors import UserError
from storage.database import sqlstate

QUERY_CANCELED = "57014"


class QueryTimeout(UserError):
    status_code = 503
    code = "QUERY_TIMEOUT"


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads. A statement that outlives the engine's statement timeout
    raises QueryTimeout (never a bare database error)."""
    try:
        async with engine.connect() as conn:
            yield conn
    except DBAPIError as exc:
        if sqlstate(exc) != QUERY_CANCELED:
            raise
        raise QueryTimeout(
            "the query ran past the server's statement timeout; narrow the time range or filters"
        ) from None
