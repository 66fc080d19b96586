"""A project's masking rules (``projects.masking_rules``, migration 0006)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from masking.rules import MaskingRule, stored_rules


async def project_masking_rules(
    engine: AsyncEngine, project_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[MaskingRule]]:
    """Each project's rules (an empty list for none), in one query."""
    found: dict[uuid.UUID, list[MaskingRule]] = {project: [] for project in project_ids}
    if not found:
        return found
    statement = text(
        "SELECT id, masking_rules FROM projects WHERE id IN :projects AND masking_rules IS NOT NULL"
    ).bindparams(bindparam("projects", expanding=True))
    async with engine.connect() as conn:
        for row in await conn.execute(statement, {"projects": list(found)}):
            found[row.id] = stored_rules(row.masking_rules)
    return found


async def set_project_masking_rules(
    engine: AsyncEngine, project_id: uuid.UUID, rules: Sequence[MaskingRule]
) -> bool:
    """Replaces the project's rules (none: NULL); False when there is no such project."""
    value = json.dumps([rule.as_json() for rule in rules]) if rules else None
    async with engine.begin() as conn:
        result = await conn.execute(
            text("UPDATE projects SET masking_rules = CAST(:rules AS jsonb) WHERE id = :id"),
            {"id": project_id, "rules": value},
        )
    return bool(result.rowcount)
