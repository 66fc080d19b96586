"""All spans of each trace, by start time, in outline: without their payloads (inputs,
outputs, attributes, ...), which a span's payload fields load on demand, in one batch."""

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
        found = await spans_of_traces(self._engine, keys, outline=True)
        return [found.get(key, []) for key in keys]
