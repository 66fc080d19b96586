"""Traces by (project id, trace id)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from resolvers.records import TraceData, TraceKey
from resolvers.traces import traces_by_keys

Key = TraceKey
Result = TraceData | None


class TraceByIdLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await traces_by_keys(self._engine, keys)
        return [found.get(key) for key in keys]
