"""All spans of each trace, by start time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from resolvers.records import SpanData, TraceKey
from resolvers.spans import spans_of_traces

Key = TraceKey
Result = list[SpanData]


class SpansByTraceLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await spans_of_traces(self._engine, keys)
        return [found.get(key, []) for key in keys]
