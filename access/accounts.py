"""People's sessions: log in, refresh, log out, change password, and the first admin.

A login answers with a short-lived access token (a JWT, access/tokens.py) and a refresh
token (storage/refresh_tokens.py) that gets a new pair once. Failed logins count per
account and per client address; past the limit every login there is refused for the rest
of the window, even with the right password (access/login_guard.py).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from access.login_guard import LoginGuard
from access.passwords import check_password_rules, hash_password, verify_password
from access.tokens import TokenCodec
from access.viewer import Viewer
from agenttrace.errors import Forbidden, InvalidArgument, Unauthorized
from agenttrace.settings import Settings
from storage import audit
from storage.projects import DEFAULT_ORGANIZATION
from storage.refresh_tokens import (
    RefreshRefused,
    issue_refresh_token,
    revoke_refresh_token,
    rotate_refresh_token,
)
from storage.users import (
    UserExists,
    count_users,
    create_user,
    organization_id_by_name,
    set_membership,
    set_password,
    user_by_email,
    user_by_id,
)

FIRST_ADMIN_EMAIL = "admin@localhost"
BAD_LOGIN = "wrong email or password"


@dataclass(frozen=True, slots=True)
class Session:
    access_token: str
    expires_at: float
    refresh_token: str
    must_change_password: bool


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    email: str
    one_time_password: str | None
    """Set when the server made the password up (print it once); None when it came from
    AGENTTRACE_ADMIN_PASSWORD."""


def new_one_time_password() -> str:
    return secrets.token_urlsafe(18)


class Accounts:
    def __init__(
        self, engine: AsyncEngine, codec: TokenCodec, settings: Settings, guard: LoginGuard
    ) -> None:
        self._engine = engine
        self._codec = codec
        self._settings = settings
        self._guard = guard

    async def _session(self, user_id: uuid.UUID, must_change: bool) -> Session:
        access = self._codec.issue(user_id, must_change_password=must_change)
        refresh = await issue_refresh_token(
            self._engine, user_id, self._settings.refresh_token_ttl_s
        )
        return Session(access.token, access.expires_at, refresh, must_change)

    async def login(self, email: str, password: str, client: str) -> Session:
        """A new session; Unauthorized for a wrong email or password (the same answer for
        both), TooManyRequests past the failure limit."""
        email = email.strip()
        await self._guard.check(email, client)
        user = await user_by_email(self._engine, email) if email else None
        usable = user is not None and user.disabled_at is None
        if not await verify_password(user.password_hash if usable and user else None, password):
            await self._guard.failed(email, client)
            raise Unauthorized(BAD_LOGIN)
        assert user is not None
        return await self._session(user.id, user.must_change_password)

    async def refresh(self, refresh_token: str) -> Session:
        try:
            rotated = await rotate_refresh_token(
                self._engine, refresh_token, self._settings.refresh_token_ttl_s
            )
        except RefreshRefused as exc:
            if exc.reused:
                await audit.record(
                    self._engine, "system", "refresh_token.reused", details={"revoked": "all"}
                )
            raise Unauthorized(str(exc)) from None
        user = await user_by_id(self._engine, rotated.user_id)
        if user is None:
            raise Unauthorized("this account no longer exists")
        access = self._codec.issue(user.id, must_change_password=user.must_change_password)
        return Session(access.token, access.expires_at, rotated.token, user.must_change_password)

    async def logout(self, refresh_token: str) -> None:
        """Ends the session; a token that is already revoked or unknown is not an error
        (logging out twice is fine)."""
        await revoke_refresh_token(self._engine, refresh_token)

    async def change_password(self, viewer: Viewer, current: str, new: str) -> Session:
        """Sets a new password, ends every other session, and answers a new one."""
        if viewer.user_id is None:
            raise Forbidden("only a person can change a password (this is an API key)")
        user = await user_by_id(self._engine, viewer.user_id)
        if user is None or not await verify_password(user.password_hash, current):
            raise Unauthorized("the current password is wrong")
        check_password_rules(new)
        if new == current:
            raise InvalidArgument("the new password must differ from the current one")
        await set_password(self._engine, user.id, await hash_password(new))
        await audit.record(self._engine, viewer.principal, "user.password_changed")
        return await self._session(user.id, False)


async def create_person(
    engine: AsyncEngine,
    email: str,
    password: str | None,
    *,
    is_admin: bool = False,
    organization: str | None = None,
    role: str | None = None,
    actor: str = "cli",
) -> tuple[uuid.UUID, str | None]:
    """A user (with a role in an organisation when given); returns its id and, when no
    password was given, the one-time password made up for it (to be changed at first
    login). UserExists, LookupError for a missing organisation, InvalidArgument for a
    bad email or password."""
    email = email.strip()
    if "@" not in email or len(email) > 320 or any(c.isspace() or c == "\x00" for c in email):
        raise InvalidArgument(f"{email!r} is not an email address")
    one_time = None
    if password is None:
        one_time = password = new_one_time_password()
    else:
        check_password_rules(password)
    password_hash = await hash_password(password)
    async with engine.begin() as conn:
        organization_id = None
        if organization is not None:
            organization_id = await organization_id_by_name(conn, organization)
            if organization_id is None:
                raise LookupError(f"no organization named {organization!r}")
        user = await create_user(
            conn,
            email,
            password_hash,
            is_admin=is_admin,
            must_change_password=one_time is not None,
        )
        if organization_id is not None and role is not None:
            await set_membership(conn, organization_id, user.id, role)
        await audit.record(
            conn,
            actor,
            "user.created",
            organization_id=organization_id,
            target=f"user:{user.id}",
            details={"email": email, "role": role, "is_admin": is_admin},
        )
    return user.id, one_time


async def ensure_first_admin(engine: AsyncEngine, settings: Settings) -> FirstAdmin | None:
    """On a server without any user: the admin, owner of the Default organisation, from
    AGENTTRACE_ADMIN_EMAIL / AGENTTRACE_ADMIN_PASSWORD, else admin@localhost with a
    one-time password. None when users exist (or another replica just made one)."""
    if await count_users(engine) > 0:
        return None
    email = (settings.admin_email or FIRST_ADMIN_EMAIL).strip()
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    try:
        _, one_time = await create_person(
            engine,
            email,
            password,
            is_admin=True,
            organization=DEFAULT_ORGANIZATION,
            role="owner",
            actor="system",
        )
    except UserExists:
        return None
    return FirstAdmin(email, one_time)
