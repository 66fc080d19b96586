"""API keys by (project id, key id) (never their secrets)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from storage.api_keys import ApiKeyData, ApiKeyKey, api_keys_by_keys

Key = ApiKeyKey
Result = ApiKeyData | None


class ApiKeyByIdLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await api_keys_by_keys(self._engine, keys)
        return [found.get(key) for key in keys]
