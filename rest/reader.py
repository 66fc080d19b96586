"""Who may read through REST: a read-scoped API key, and the engine REST reads with."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from access.api_keys import ApiKeyResolver
from access.permissions import Permission
from access.viewer import Viewer


async def reader(request: Request) -> tuple[AsyncEngine, Viewer]:
    """The query engine and the caller; Unauthorized or Forbidden without a read key."""
    keys: ApiKeyResolver = request.app.state.keys
    engine: AsyncEngine = request.app.state.query_engine
    return engine, await keys.require(request, Permission.READ_TRACES)
