"""Refresh tokens: the long-lived half of a login, stored as SHA-256 hashes of 256-bit
random secrets. Each use rotates it (the old one is revoked and points at its successor);
a revoked token presented again means it was copied, so every token of that user is
revoked (the OAuth 2.0 Security BCP's reuse detection)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

REFRESH_PREFIX = "atr_"


def new_refresh_token() -> str:
    return REFRESH_PREFIX + secrets.token_urlsafe(32)


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class Rotated:
    user_id: uuid.UUID
    token: str


class RefreshRefused(Exception):
    """Unknown, expired or revoked; ``reused`` when a revoked token came back."""

    def __init__(self, message: str, reused: bool = False) -> None:
        super().__init__(message)
        self.reused = reused


async def issue_refresh_token(engine: AsyncEngine, user_id: uuid.UUID, ttl_s: int) -> str:
    token = new_refresh_token()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO refresh_tokens (id, user_id, token_hash, expires_at)"
                " VALUES (:id, :user, :hash, now() + make_interval(secs => :ttl))"
            ),
            {"id": uuid.uuid4(), "user": user_id, "hash": _hash(token), "ttl": ttl_s},
        )
    return token


async def rotate_refresh_token(engine: AsyncEngine, token: str, ttl_s: int) -> Rotated:
    """A new token in place of ``token`` (revoked here, in the same transaction, so it
    works once); RefreshRefused otherwise."""
    new_token, new_id = new_refresh_token(), uuid.uuid4()
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT t.id, t.user_id, t.revoked_at, t.expires_at > now() AS live,"
                    " u.disabled_at FROM refresh_tokens t JOIN users u ON u.id = t.user_id"
                    " WHERE t.token_hash = :hash FOR UPDATE OF t"
                ),
                {"hash": _hash(token)},
            )
        ).first()
        if row is None:
            raise RefreshRefused("unknown refresh token")
        reused = row.revoked_at is not None
        if reused:
            # Committed when this block ends normally; the refusal is raised after it.
            await conn.execute(
                text(
                    "UPDATE refresh_tokens SET revoked_at = now()"
                    " WHERE user_id = :user AND revoked_at IS NULL"
                ),
                {"user": row.user_id},
            )
        elif not row.live or row.disabled_at is not None:
            raise RefreshRefused("this refresh token has expired; log in again")
        else:
            await conn.execute(
                text(
                    "INSERT INTO refresh_tokens (id, user_id, token_hash, expires_at)"
                    " VALUES (:id, :user, :hash, now() + make_interval(secs => :ttl))"
                ),
                {"id": new_id, "user": row.user_id, "hash": _hash(new_token), "ttl": ttl_s},
            )
            await conn.execute(
                text(
                    "UPDATE refresh_tokens SET revoked_at = now(), replaced_by = :new"
                    " WHERE id = :id"
                ),
                {"id": row.id, "new": new_id},
            )
    if reused:
        raise RefreshRefused(
            "this refresh token was revoked (or already used); log in again", reused=True
        )
    return Rotated(row.user_id, new_token)


async def revoke_refresh_token(engine: AsyncEngine, token: str) -> uuid.UUID | None:
    """Revokes ``token`` (logout); the user it belonged to, or None if it was not live."""
    async with engine.begin() as conn:
        user_id = await conn.scalar(
            text(
                "UPDATE refresh_tokens SET revoked_at = now()"
                " WHERE token_hash = :hash AND revoked_at IS NULL RETURNING user_id"
            ),
            {"hash": _hash(token)},
        )
    return None if user_id is None else uuid.UUID(str(user_id))
