"""The annotations on each trace itself (not on its spans), oldest first."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from resolvers.annotations import AnnotationData, annotations_of_targets
from resolvers.records import TraceKey

Key = TraceKey
Result = list[AnnotationData]


class AnnotationsByTraceLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await annotations_of_targets(self._engine, [(p, t, None) for p, t in keys])
        return [found.get((p, t, None), []) for p, t in keys]
