"""Spans by (project id, trace id, span id)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from resolvers.records import SpanData, SpanKey
from resolvers.spans import spans_by_keys

Key = SpanKey
Result = SpanData | None


class SpanByIdLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await spans_by_keys(self._engine, keys)
        return [found.get(key) for key in keys]
