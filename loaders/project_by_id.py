"""Projects by id."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from resolvers.projects import ProjectData, projects_by_ids

Key = uuid.UUID
Result = ProjectData | None


class ProjectByIdLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await projects_by_ids(self._engine, keys)
        return [found.get(key) for key in keys]
