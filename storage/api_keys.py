"""A project's API keys after the first: creating, listing and revoking them. The secret
is returned once, at creation; only its hash is stored (storage/projects.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.projects import hash_key, key_prefix, new_api_key

API_KEY_COLUMNS = "id, project_id, prefix, scopes, created_at, expires_at, revoked_at, last_used_at"

ApiKeyKey = tuple[uuid.UUID, uuid.UUID]
"""(project id, key id)"""


@dataclass(frozen=True, slots=True)
class ApiKeyData:
    """A key as its managers see it: never the secret."""

    id: uuid.UUID
    project_id: uuid.UUID
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def key(self) -> ApiKeyKey:
        return (self.project_id, self.id)

    @classmethod
    def from_row(cls, row: RowMapping) -> ApiKeyData:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class NewApiKey:
    data: ApiKeyData
    secret: str
    """Shown once; only its hash is stored."""


async def create_api_key(
    engine: AsyncEngine,
    project_id: uuid.UUID,
    scopes: Sequence[str],
    expires_at: datetime | None = None,
    created_by: uuid.UUID | None = None,
) -> NewApiKey | None:
    """A new key of the project with ``scopes``; None if there is no such project."""
    secret = new_api_key()
    async with engine.begin() as conn:
        row = (
            (
                await conn.execute(
                    text(
                        "INSERT INTO api_keys"
                        " (id, project_id, prefix, key_hash, scopes, expires_at, created_by)"
                        " SELECT :id, id, :prefix, :hash, :scopes, :expires_at, :created_by"
                        " FROM projects"
                        f" WHERE id = :project_id RETURNING {API_KEY_COLUMNS}"
                    ),
                    {
                        "id": uuid.uuid4(),
                        "project_id": project_id,
                        "prefix": key_prefix(secret),
                        "hash": hash_key(secret),
                        "scopes": sorted(set(scopes)),
                        "expires_at": expires_at,
                        "created_by": created_by,
                    },
                )
            )
            .mappings()
            .first()
        )
    return None if row is None else NewApiKey(ApiKeyData.from_row(row), secret)


async def revoke_api_key(engine: AsyncEngine, key: ApiKeyKey) -> ApiKeyData | None:
    """Revokes the key (revoking twice keeps the first time); None if there is no such
    key. Resolvers that cache keys keep honouring it until their entry expires."""
    async with engine.begin() as conn:
        row = (
            (
                await conn.execute(
                    text(
                        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())"
                        f" WHERE project_id = :p AND id = :id RETURNING {API_KEY_COLUMNS}"
                    ),
                    {"p": key[0], "id": key[1]},
                )
            )
            .mappings()
            .first()
        )
    return None if row is None else ApiKeyData.from_row(row)


async def api_keys_of_projects(
    engine: AsyncEngine, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ApiKeyData]]:
    """Each project's keys, newest first, revoked ones included."""
    result: dict[uuid.UUID, list[ApiKeyData]] = {p: [] for p in project_ids}
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT {API_KEY_COLUMNS} FROM api_keys"
                    " WHERE project_id = ANY(CAST(:p AS uuid[])) ORDER BY created_at DESC, id"
                ),
                {"p": list(project_ids)},
            )
        ).mappings()
        for row in rows:
            data = ApiKeyData.from_row(row)
            result.setdefault(data.project_id, []).append(data)
    return result


async def api_keys_by_keys(
    engine: AsyncEngine, keys: Sequence[ApiKeyKey]
) -> dict[ApiKeyKey, ApiKeyData]:
    """The keys that exist among ``keys`` (one statement for any number)."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT {API_KEY_COLUMNS} FROM api_keys WHERE (project_id, id) IN"
                    " (SELECT * FROM unnest(CAST(:p AS uuid[]), CAST(:id AS uuid[])))"
                ),
                {"p": [k[0] for k in keys], "id": [k[1] for k in keys]},
            )
        ).mappings()
        found = [ApiKeyData.from_row(row) for row in rows]
    return {k.key: k for k in found}
