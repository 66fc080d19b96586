"""What every resolver gets through ``info.context``: the database, per-request
dataloaders, the live fan-out and the caller."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from access.api_keys import api_key_from, bearer_token
from access.authenticator import Authenticator
from access.permissions import Permission
from access.viewer import Viewer
from agenttrace.errors import Forbidden, InvalidArgument
from agenttrace.settings import Settings
from cache.store import Cache
from loaders import Loaders
from messaging.live_events import LiveEvents


class Context(BaseContext):
    def __init__(
        self,
        *,
        settings: Settings,
        engine: AsyncEngine,
        write_engine: AsyncEngine,
        auth: Authenticator,
        live: LiveEvents,
        cache: Cache,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.engine = engine
        """For reads: every statement is bounded by the API's statement timeout."""
        self.write_engine = write_engine
        """For mutations: a large delete must not be cut off by the read timeout."""
        self.auth = auth
        self.live = live
        self.cache = cache
        self.loaders = Loaders.create(engine, cache)

    def _presented_key(self) -> str | None:
        # Over WebSocket the key comes in connection_init's payload; browsers cannot set
        # headers on a WebSocket upgrade.
        params: Any = self.connection_params
        if isinstance(params, dict):
            for name in ("Authorization", "authorization"):
                value = params.get(name)
                if isinstance(value, str) and (token := bearer_token(value)):
                    return token
            for name in ("apiKey", "api_key", "x-api-key"):
                value = params.get(name)
                if isinstance(value, str) and value.strip():
                    return value.strip()
        return api_key_from(self.request) if self.request is not None else None

    def refresh_loaders(self) -> None:
        """After a mutation writes: what later fields load must not come from before."""
        self.loaders = Loaders.create(self.engine, self.cache)

    async def viewer(self) -> Viewer:
        """The caller; raises Unauthorized without a valid key or access token."""
        return await self.auth.viewer(self._presented_key())

    async def only_project(self, permission: Permission) -> uuid.UUID:
        """The caller's one project where it holds ``permission`` (an API key's own); a
        caller with several must say which."""
        viewer = await self.viewer()
        allowed = [p for p in viewer.project_ids if viewer.can(permission, p)]
        if len(allowed) == 1:
            return allowed[0]
        if not allowed:
            raise Forbidden(viewer.lacks(permission))
        raise InvalidArgument("you can see several projects: pass the project's id")

    async def project_for(self, project_id: uuid.UUID, permission: Permission) -> uuid.UUID:
        """``project_id`` if the caller holds ``permission`` on it. Another project's id
        gets the same answer as a missing one, so ids leak nothing."""
        viewer = await self.viewer()
        if not viewer.can(permission, project_id):
            raise Forbidden("no such project, or you may not do that there")
        return project_id


Info = StrawberryInfo[Context, None]
