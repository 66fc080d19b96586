"""Each project's headline counts."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from resolvers.projects import ProjectStats, stats_of_projects

Key = uuid.UUID
Result = ProjectStats


class ProjectStatsLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine

    async def _load(self, keys: list[Key]) -> list[Result]:
        found = await stats_of_projects(self._engine, keys)
        return [found[key] for key in keys]
