"""Each project's API keys, newest first (never their secrets)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from storage.api_keys import ApiKeyData, api_keys_of_projects

Key = uuid.UUID
Result = list[ApiKeyData]


class ApiKeysByProjectLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await api_keys_of_projects(self._engine, keys)
        return [found.get(key, []) for key in keys]
