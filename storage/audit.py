"""The audit log: who created or revoked keys, changed roles, or deleted data. Entries are
written in the same transaction as the change when the caller has one, so a change is
never without its entry."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.database import in_transaction


@dataclass(frozen=True, slots=True)
class AuditEntryData:
    id: int
    at: datetime
    actor: str
    action: str
    organization_id: uuid.UUID | None
    project_id: uuid.UUID | None
    target: str | None
    details: dict[str, Any]


_INSERT = text(
    "INSERT INTO audit_log (actor, action, organization_id, project_id, target, details)"
    " VALUES (:actor, :action, :org, :project,  :target, CAST(:details AS jsonb))"
)


async def record(
    engine: AsyncEngine | AsyncConnection,
    actor: str,
    action: str,
    *,
    organization_id: uuid.UUID | None = None,
    project_id: uuid.UUID | None = None,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """One entry. ``organization_id`` may be left out when ``project_id`` is given: the
    project's organisation is looked up (so admins of it see the entry)."""
    values = {
        "actor": actor,
        "action": action,
        "org": organization_id,
        "project": project_id,
        "target": target,
        "details": orjson.dumps(dict(details or {})).decode(),
    }
    statement = _INSERT
    if organization_id is None and project_id is not None:
        statement = text(
            "INSERT INTO audit_log (actor, action, organization_id, project_id, target, details)"
            " SELECT :actor, :action, COALESCE(CAST(:org AS uuid), p.organization_id), :project,"
            " :target, CAST(:details AS jsonb) FROM (SELECT 1) one"
            " LEFT JOIN projects p ON p.id = :project"
        )
    async with in_transaction(engine) as conn:
        await conn.execute(statement, values)


async def audit_entries(
    engine: AsyncEngine,
    organization_ids: list[uuid.UUID],
    *,
    first: int,
    before_id: int | None = None,
) -> list[AuditEntryData]:
    """The newest entries of these organisations, newest first, after the keyset cursor."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT id, at, actor, action, organization_id, project_id, target, details"
                    " FROM audit_log WHERE organization_id = ANY(:orgs)"
                    " AND (CAST(:before AS bigint) IS NULL OR id < :before)"
                    " ORDER BY id DESC LIMIT :limit"
                ),
                {"orgs": organization_ids, "before": before_id, "limit": first},
            )
        ).all()
    return [
        AuditEntryData(
            row.id,
            row.at,
            row.actor,
            row.action,
            row.organization_id,
            row.project_id,
            row.target,
            dict(row.details),
        )
        for row in rows
    ]
