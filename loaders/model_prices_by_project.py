"""Each project's own model prices (the bundled table is not per project)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from pricing.price_table import ModelPrice
from storage.model_prices import project_prices

Key = uuid.UUID
Result = list[ModelPrice]


class ModelPricesByProjectLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await project_prices(self._engine, keys)
        return [found.get(key, []) for key in keys]
