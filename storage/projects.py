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


class ProjectExists(Exception):
    pass


@dataclass(frozen=True, slots=True)
class NewProject:
    id: uuid.UUID
    name: str
    api_key: str
    """The secret, shown once; only its hash is stored."""


def hash_key(api_key: str) -> bytes:
    return hashlib.sha256(api_key.encode()).digest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_project(engine: AsyncEngine, name: str) -> NewProject:
    """Creates a project with one API key (scopes ingest and read). Raises ProjectExists."""
    project_id = uuid.uuid4()
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
                    "id": uuid.uuid4(),
                    "project_id": project_id,
                    "prefix": api_key[: len(KEY_PREFIX) + 6],
                    "hash": hash_key(api_key),
                    "scopes": list(DEFAULT_SCOPES),
                },
            )
    except IntegrityError:
        raise ProjectExists(f"a project named {name!r} already exists") from None
    return NewProject(project_id, name, api_key)


async def count_projects(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM projects")) or 0)


async def project_for_key(engine: AsyncEngine, api_key: str, scope: str) -> uuid.UUID | None:
    """The project a live (unrevoked, unexpired) key with ``scope`` belongs to, or None."""
    async with engine.connect() as conn:
        project_id = await conn.scalar(
            text(
                "SELECT project_id FROM api_keys WHERE key_hash = :hash"
                " AND :scope = ANY(scopes) AND revoked_at IS NULL"
                " AND (expires_at IS NULL OR expires_at > now())"
            ),
            {"hash": hash_key(api_key), "scope": scope},
        )
    return project_id if isinstance(project_id, uuid.UUID) else None
