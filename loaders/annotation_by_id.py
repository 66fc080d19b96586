"""Annotations by (project id, annotation id)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from resolvers.annotations import AnnotationData, AnnotationKey, annotations_by_keys

Key = AnnotationKey
Result = AnnotationData | None


class AnnotationByIdLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await annotations_by_keys(self._engine, keys)
        return [found.get(key) for key in keys]
