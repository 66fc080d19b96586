"""Who is calling: a bearer token is either a project API key (``at_...``) or a person's
access token (a JWT). Either way the answer is a Viewer with what it may do per project.

A person's roles are read from PostgreSQL at most every ``ttl_s`` per user and process (a
role change or removal takes effect within that, and at once in the process that made
it); the token itself is verified on every request, so an expired one stops working on
the second it expires.
"""

from __future__ import annotations

import time
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection

from access.api_keys import ApiKeyResolver, api_key_from
from access.permissions import ORGANIZATION_PERMISSIONS, ROLE_PERMISSIONS, Permission, Role
from access.tokens import TokenCodec, looks_like_jwt
from access.viewer import Viewer
from agenttrace.errors import Forbidden, Unauthorized
from storage.users import UserGrants, grants_of_user

MISSING_CREDENTIAL = (
    "missing credentials: send 'Authorization: Bearer <API key or access token>'"
    " (or 'x-api-key: <API key>')"
)


def viewer_of_user(grants: UserGrants, expires_at: float, must_change: bool) -> Viewer:
    user = grants.user
    if must_change or user.must_change_password:
        # Until the one-time password is changed, the person can do nothing else.
        return Viewer(
            principal=f"user:{user.id}",
            projects={},
            organizations={},
            user_id=user.id,
            is_admin=False,
            expires_at=expires_at,
            must_change_password=True,
            email=user.email,
        )
    projects = {p.project_id: ROLE_PERMISSIONS[Role(p.role)] for p in grants.project_roles}
    organizations = {
        org: ROLE_PERMISSIONS[Role(role)] & ORGANIZATION_PERMISSIONS
        for org, role in grants.organization_roles.items()
    }
    return Viewer(
        principal=f"user:{user.id}",
        projects=projects,
        organizations=organizations,
        user_id=user.id,
        is_admin=user.is_admin,
        expires_at=expires_at,
        email=user.email,
    )


class Authenticator:
    def __init__(
        self,
        engine: AsyncEngine,
        codec: TokenCodec,
        *,
        keys: ApiKeyResolver | None = None,
        ttl_s: float = 5.0,
        max_entries: int = 10_000,
    ) -> None:
        self._engine = engine
        self.codec = codec
        self.keys = keys or ApiKeyResolver(engine, ttl_s=ttl_s)
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._users: dict[uuid.UUID, tuple[float, UserGrants | None]] = {}

    async def viewer(self, token: str | None) -> Viewer:
        """The token's viewer; Unauthorized for a missing, unknown, revoked or expired
        key or access token, or a disabled user."""
        if not token:
            raise Unauthorized(MISSING_CREDENTIAL)
        if not looks_like_jwt(token):
            return await self.keys.viewer(token)
        claims = self.codec.verify(token)
        grants = await self._grants(claims.user_id)
        if grants is None:
            raise Unauthorized("this account no longer exists or is disabled")
        return viewer_of_user(grants, claims.expires_at, claims.must_change_password)

    async def _grants(self, user_id: uuid.UUID) -> UserGrants | None:
        now = time.monotonic()
        cached = self._users.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        grants = await grants_of_user(self._engine, user_id)
        if len(self._users) >= self._max_entries:
            self._users.clear()
        self._users[user_id] = (now + self._ttl_s, grants)
        return grants

    async def require(self, connection: HTTPConnection, permission: Permission) -> Viewer:
        """The caller's viewer if it holds ``permission``; Unauthorized or Forbidden if not."""
        viewer = await self.viewer(api_key_from(connection))
        if not viewer.can(permission):
            raise Forbidden(viewer.lacks(permission))
        return viewer

    def forget_key(self, key_id: uuid.UUID) -> None:
        self.keys.forget_key(key_id)

    def forget_project(self, project_id: uuid.UUID) -> None:
        """The project is gone: its keys, and every cached person who could see it."""
        self.keys.forget_project(project_id)
        for user_id, (_, grants) in list(self._users.items()):
            if grants is not None and any(p.project_id == project_id for p in grants.project_roles):
                self._users.pop(user_id, None)

    def forget_user(self, user_id: uuid.UUID) -> None:
        """The user's roles changed: re-read them on the next request (in this process)."""
        self._users.pop(user_id, None)

    def forget_users(self) -> None:
        """Organisations' projects changed (a project was created): re-read everyone."""
        self._users.clear()
