"""Resolves a presented API key to a Viewer, with a short-lived cache so the hot path does
not query PostgreSQL per request (a revoked key stops working within ``ttl_s``, and at
once in the process that revoked it). While PostgreSQL is down, a key keeps the answer it
last got, so ingest keeps accepting into the queue; a key never seen gets 503."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection

from access.permissions import Permission
from access.viewer import Viewer
from agenttrace.errors import Forbidden, Unauthorized, Unavailable
from storage.database import DATABASE_FAILURES
from storage.projects import grant_for_key

log = structlog.get_logger(__name__)

MISSING_KEY = "missing API key: send 'Authorization: Bearer <key>' or 'x-api-key'"


def bearer_token(value: str) -> str | None:
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def api_key_from(connection: HTTPConnection) -> str | None:
    """The key in the Authorization (Bearer) or x-api-key header, if any."""
    token = bearer_token(connection.headers.get("authorization", ""))
    return token or connection.headers.get("x-api-key", "").strip() or None


class ApiKeyResolver:
    def __init__(
        self, engine: AsyncEngine, *, ttl_s: float = 5.0, max_entries: int = 10_000
    ) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._cache: dict[str, tuple[float, Viewer | None]] = {}

    async def viewer(self, api_key: str | None) -> Viewer:
        """The key's viewer; raises Unauthorized for a missing, unknown, revoked or
        expired key."""
        if not api_key:
            raise Unauthorized(MISSING_KEY)
        now = time.monotonic()
        cached = self._cache.get(api_key)
        if cached is not None and cached[0] > now:
            viewer = cached[1]
        else:
            try:
                grant = await grant_for_key(self._engine, api_key)
            except DATABASE_FAILURES as exc:
                # PostgreSQL is down: a key seen lately keeps its last answer (ingest goes
                # on into the queue); an unknown one can be neither let in nor turned away.
                if cached is None:
                    raise Unavailable(
                        "the key store (PostgreSQL) is unavailable; nothing was stored, retry"
                    ) from None
                log.warning("api_keys.database_unavailable", error=exc.__class__.__name__)
                grant_viewer = cached[1]
            else:
                grant_viewer = None if grant is None else Viewer.of_key(grant)
            viewer = grant_viewer
            if len(self._cache) >= self._max_entries:
                self._cache.clear()
            self._cache[api_key] = (now + self._ttl_s, viewer)
        if viewer is None:
            raise Unauthorized("invalid API key (unknown, revoked or expired)")
        return viewer

    def forget_key(self, key_id: uuid.UUID) -> None:
        """Drops the key from the cache, so revoking it takes effect at once in this
        process. Other processes keep honouring it until their entry expires."""
        self._forget(lambda viewer: viewer.key_id == key_id)

    def forget_project(self, project_id: uuid.UUID) -> None:
        """Drops every key of the project from the cache (the project was deleted)."""
        self._forget(lambda viewer: project_id in viewer.projects)

    def _forget(self, matches: Callable[[Viewer], bool]) -> None:
        for api_key, (_, viewer) in list(self._cache.items()):
            if viewer is not None and matches(viewer):
                del self._cache[api_key]

    async def require(self, connection: HTTPConnection, permission: Permission) -> Viewer:
        """The caller's viewer if it holds ``permission``; Unauthorized or Forbidden if not."""
        viewer = await self.viewer(api_key_from(connection))
        if not viewer.can(permission):
            raise Forbidden(viewer.lacks(permission))
        return viewer
