"""Resolves the request's project API key to a project, with a short-lived cache so the
hot path does not query PostgreSQL per request (a revoked key stops working within
``ttl_s``)."""

from __future__ import annotations

import time
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from ingest.errors import Unauthorized
from storage.projects import project_for_key


def api_key_from(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    key = request.headers.get("x-api-key", "").strip()
    if key:
        return key
    raise Unauthorized("missing API key: send 'Authorization: Bearer <key>' or 'x-api-key'")


class ApiKeyResolver:
    def __init__(
        self, engine: AsyncEngine, *, ttl_s: float = 5.0, max_entries: int = 10_000
    ) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._cache: dict[tuple[str, str], tuple[float, uuid.UUID | None]] = {}

    async def project_for(self, request: Request, scope: str) -> uuid.UUID:
        """The caller's project; raises Unauthorized for a missing, unknown or revoked key."""
        api_key = api_key_from(request)
        now = time.monotonic()
        cached = self._cache.get((api_key, scope))
        if cached is not None and cached[0] > now:
            project_id = cached[1]
        else:
            project_id = await project_for_key(self._engine, api_key, scope)
            if len(self._cache) >= self._max_entries:
                self._cache.clear()
            self._cache[(api_key, scope)] = (now + self._ttl_s, project_id)
        if project_id is None:
            raise Unauthorized(f"invalid API key for scope '{scope}'")
        return project_id
