"""A project's own model prices (``project_model_prices``, migration 0006)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import Row, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from pricing.price_table import ModelPrice

_COLUMNS = (
    "model, effective_from, pattern, provider, input, output, cached_input, cache_write, reasoning"
)


def _price(row: Row[Any]) -> ModelPrice:
    return ModelPrice(
        model=row.model,
        effective_from=row.effective_from,
        pattern=row.pattern,
        provider=row.provider,
        input=row.input,
        output=row.output,
        cached_input=row.cached_input,
        cache_write=row.cache_write,
        reasoning=row.reasoning,
    )


async def project_prices(
    engine: AsyncEngine, project_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[ModelPrice]]:
    """Each project's own entries (an empty list for a project without any), in one query."""
    found: dict[uuid.UUID, list[ModelPrice]] = {project: [] for project in project_ids}
    if not found:
        return found
    statement = text(
        f"SELECT project_id, {_COLUMNS} FROM project_model_prices"
        " WHERE project_id IN :projects ORDER BY project_id, model, effective_from"
    ).bindparams(bindparam("projects", expanding=True))
    async with engine.connect() as conn:
        for row in await conn.execute(statement, {"projects": list(found)}):
            found[row.project_id].append(_price(row))
    return found


async def set_project_price(engine: AsyncEngine, project_id: uuid.UUID, price: ModelPrice) -> None:
    """Adds the entry, or replaces the project's entry for the same model and date."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"INSERT INTO project_model_prices (project_id, {_COLUMNS})"
                " VALUES (:project_id, :model, :effective_from, :pattern, :provider, :input,"
                " :output, :cached_input, :cache_write, :reasoning)"
                " ON CONFLICT (project_id, model, effective_from) DO UPDATE SET"
                " pattern = EXCLUDED.pattern, provider = EXCLUDED.provider,"
                " input = EXCLUDED.input, output = EXCLUDED.output,"
                " cached_input = EXCLUDED.cached_input, cache_write = EXCLUDED.cache_write,"
                " reasoning = EXCLUDED.reasoning, updated_at = now()"
            ),
            {
                "project_id": project_id,
                "model": price.model,
                "effective_from": price.effective_from,
                "pattern": price.pattern,
                "provider": price.provider,
                "input": price.input,
                "output": price.output,
                "cached_input": price.cached_input,
                "cache_write": price.cache_write,
                "reasoning": price.reasoning,
            },
        )


async def delete_project_price(
    engine: AsyncEngine, project_id: uuid.UUID, model: str, effective_from: date
) -> bool:
    """Removes one entry; False when the project had no such entry."""
    async with engine.begin() as conn:
        result = await conn.execute(
            text(
                "DELETE FROM project_model_prices WHERE project_id = :project_id"
                " AND model = :model AND effective_from = :effective_from"
            ),
            {"project_id": project_id, "model": model, "effective_from": effective_from},
        )
    return bool(result.rowcount)
