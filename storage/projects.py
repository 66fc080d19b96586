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


DEFAULT_ORGANIZATION = "Default"


async def create_project(
    engine: AsyncEngine,
    name: str,
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
    *,
    organization_id: uuid.UUID | None = None,
    created_by: uuid.UUID | None = None,
) -> NewProject:
    """Creates a project in the organisation (default: the "Default" one) with one API key
    with ``scopes``. Raises ProjectExists, or LookupError for a missing organisation."""
    project_id, key_id = uuid.uuid4(), uuid.uuid4()
    api_key = new_api_key()
    try:
        async with engine.begin() as conn:
            inserted = await conn.scalar(
                text(
                    "INSERT INTO projects (id, name, organization_id)"
                    " SELECT :id, :name, o.id FROM organizations o"
                    " WHERE o.id = :organization_id"
                    " OR (CAST(:organization_id AS uuid) IS NULL AND o.name = :default)"
                    " RETURNING id"
                ),
                {
                    "id": project_id,
                    "name": name,
                    "organization_id": organization_id,
                    "default": DEFAULT_ORGANIZATION,
                },
            )
            if inserted is None:
                raise LookupError("no such organization")
            await conn.execute(
                text(
                    "INSERT INTO api_keys (id, project_id, prefix, key_hash, scopes, created_by)"
                    " VALUES (:id, :project_id, :prefix, :hash, :scopes, :created_by)"
                ),
                {
                    "id": key_id,
                    "project_id": project_id,
                    "prefix": key_prefix(api_key),
                    "hash": hash_key(api_key),
                    "scopes": list(scopes),
                    "created_by": created_by,
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


async def delete_project(engine: AsyncEngine, project_id: uuid.UUID) -> uuid.UUID | None:
    """Deletes the project with its spans, traces, annotations and API keys, in one
    transaction; the organisation it was in, or None if there was no such project."""
    async with engine.begin() as conn:
        # Spans and traces have no foreign key to their project; annotations and keys go
        # by cascade.
        await conn.execute(text("DELETE FROM spans WHERE project_id = :id"), {"id": project_id})
        await conn.execute(text("DELETE FROM traces WHERE project_id = :id"), {"id": project_id})
        deleted = await conn.scalar(
            text("DELETE FROM projects WHERE id = :id RETURNING organization_id"),
            {"id": project_id},
        )
    return None if deleted is None else uuid.UUID(str(deleted))


async def count_projects(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM projects")) or 0)


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """What a live API key may do: its project (and that project's organisation) and
    scopes."""

    key_id: uuid.UUID
    project_id: uuid.UUID
    scopes: frozenset[str]
    organization_id: uuid.UUID


# Looked up by the SHA-256 of the presented key (an index lookup: there is no stored secret
# to compare in variable time). Records the key's use, at most once a minute so a busy key
# does not rewrite its row on every lookup.
_GRANT_FOR_KEY = text(
    """
    WITH live AS (
        SELECT k.id, k.project_id, k.scopes, k.last_used_at, p.organization_id
        FROM api_keys k JOIN projects p ON p.id = k.project_id
        WHERE k.key_hash = :hash AND k.revoked_at IS NULL
          AND (k.expires_at IS NULL OR k.expires_at > now())
    ), used AS (
        UPDATE api_keys SET last_used_at = now()
        WHERE id = (SELECT id FROM live)
          AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
    )
    SELECT id, project_id, scopes, organization_id FROM live
    """
)


async def grant_for_key(engine: AsyncEngine, api_key: str) -> KeyGrant | None:
    """The grant of a live (unrevoked, unexpired) key, or None for any other string."""
    async with engine.begin() as conn:
        row = (await conn.execute(_GRANT_FOR_KEY, {"hash": hash_key(api_key)})).first()
    if row is None:
        return None
    return KeyGrant(row.id, row.project_id, frozenset(row.scopes), row.organization_id)
