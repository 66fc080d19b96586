"""The annotations on each span, oldest first."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from resolvers.annotations import AnnotationData, annotations_of_targets
from resolvers.records import SpanKey

Key = SpanKey
Result = list[AnnotationData]


class AnnotationsBySpanLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await annotations_of_targets(self._engine, keys)
        return [found.get(key, []) for key in keys]
