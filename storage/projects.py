"""Projects and their API keys: creation, and the lookup every ingest request makes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

KEY_PREFIX = "at_"
DEFAULT_SCOPES = ("ingest", "read")
ALL_SCOPES = ("ingest", "read", "annotate", "admin")


class ProjectExists(Exception):
    pass


@dataclass(frozen=True, slots=True)
class NewProject:
    id: uuid.UUID
    name: str
    api_key: str
    """The secret, shown once; only its hash is stored."""
    key_id: uuid.UUID


def hash_key(api_key: str) -> bytes:
    return hashlib.sha256(api_key.encode()).digest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_prefix(api_key: str) -> str:
    """The part of a key that is kept in clear, so people can tell their keys apart."""
    return api_key[: len(KEY_PREFIX) + 6]


async def create_project(
    engine: AsyncEngine, name: str, scopes: tuple[str, ...] = DEFAULT_SCOPES
) -> NewProject:
    """Creates a project with one API key with ``scopes``. Raises ProjectExists."""
    project_id, key_id = uuid.uuid4(), uuid.uuid4()
    api_key = new_api_key()
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO projects (id, name) VALUES (:id, :name)"),
                {"id": project_id, "name": name},
            )
            await conn.execute(
                text(
                    "INSERT INTO api_keys (id, project_id, prefix, key_hash, scopes)"
                    " VALUES (:id, :project_id, :prefix, :hash, :scopes)"
                ),
                {
                    "id": key_id,
                    "project_id": project_id,
                    "prefix": key_prefix(api_key),
                    "hash": hash_key(api_key),
                    "scopes": list(scopes),
                },
            )
    except IntegrityError:
        raise ProjectExists(f"a project named {name!r} already exists") from None
    return NewProject(project_id, name, api_key, key_id)


async def rename_project(engine: AsyncEngine, project_id: uuid.UUID, name: str) -> bool:
    """Whether there was such a project to rename. Raises ProjectExists."""
    try:
        async with engine.begin() as conn:
            renamed = await conn.scalar(
                text("UPDATE projects SET name = :name WHERE id = :id RETURNING id"),
                {"id": project_id, "name": name},
            )
    except IntegrityError:
        raise ProjectExists(f"a project named {name!r} already exists") from None
    return renamed is not None


async def delete_project(engine: AsyncEngine, project_id: uuid.UUID) -> bool:
    """Deletes the project with its spans, traces, annotations and API keys, in one
    transaction; whether there was such a project."""
    async with engine.begin() as conn:
        # Spans and traces have no foreign key to their project; annotations and keys go
        # by cascade.
        await conn.execute(text("DELETE FROM spans WHERE project_id = :id"), {"id": project_id})
        await conn.execute(text("DELETE FROM traces WHERE project_id = :id"), {"id": project_id})
        deleted = await conn.scalar(
            text("DELETE FROM projects WHERE id = :id RETURNING id"), {"id": project_id}
        )
    return deleted is not None


async def count_projects(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM projects")) or 0)


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """What a live API key may do: its project and scopes."""

    key_id: uuid.UUID
    project_id: uuid.UUID
    scopes: frozenset[str]


async def grant_for_key(engine: AsyncEngine, api_key: str) -> KeyGrant | None:
    """The grant of a live (unrevoked, unexpired) key, or None for any other string."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT id, project_id, scopes FROM api_keys WHERE key_hash = :hash"
                    " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"
                ),
                {"hash": hash_key(api_key)},
            )
        ).first()
    return None if row is None else KeyGrant(row.id, row.project_id, frozenset(row.scopes))
