"""The direct children of each span, by start time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from resolvers.records import SpanData, SpanKey
from resolvers.spans import children_of_spans

Key = SpanKey
Result = list[SpanData]


class ChildrenBySpanLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await children_of_spans(self._engine, keys)
        return [found.get(key, []) for key in keys]
