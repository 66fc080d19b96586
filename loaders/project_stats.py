"""Each project's headline counts, through the read cache (``project:{id}:stats``):
the dashboard asks for them on every page, and they change with every batch."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from cache.keys import project_stats_key
from cache.store import Cache
from resolvers.projects import ProjectStats, stats_of_projects

Key = uuid.UUID
Result = ProjectStats

STATS_TTL_S = 10.0


def _encode(stats: ProjectStats) -> bytes:
    return orjson.dumps(dataclasses.asdict(stats))


def _decode(value: bytes) -> ProjectStats:
    fields = orjson.loads(value)
    last = fields["last_trace_at"]
    return ProjectStats(
        **fields | {"last_trace_at": datetime.fromisoformat(last) if last else None}
    )


class ProjectStatsLoader(DataLoader[Key, Result]):
    def __init__(self, engine: AsyncEngine, cache: Cache) -> None:
        super().__init__(load_fn=self._load)
        self._engine = engine
        self._cache = cache

    async def _load(self, keys: list[Key]) -> list[Result]:
        cached = await self._cache.get_many("project_stats", [project_stats_key(k) for k in keys])
        found: dict[Key, Result] = {
            key: _decode(value)
            for key, value in zip(keys, cached, strict=True)
            if value is not None
        }
        missing = [key for key in keys if key not in found]
        if missing:
            loaded = await stats_of_projects(self._engine, missing)
            for key, stats in loaded.items():
                await self._cache.add(project_stats_key(key), _encode(stats), STATS_TTL_S)
            found |= loaded
        return [found[key] for key in keys]
