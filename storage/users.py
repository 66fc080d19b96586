"""People: users, the organisations they belong to and their roles there."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.database import in_transaction

USER_COLUMNS = "id, email, password_hash, is_admin, must_change_password, created_at, disabled_at"


class UserExists(Exception):
    pass


class OrganizationExists(Exception):
    pass


@dataclass(frozen=True, slots=True)
class UserData:
    id: uuid.UUID
    email: str
    password_hash: str
    is_admin: bool
    must_change_password: bool
    created_at: datetime
    disabled_at: datetime | None

    @classmethod
    def from_row(cls, row: RowMapping) -> UserData:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class MembershipData:
    organization_id: uuid.UUID
    organization_name: str
    user_id: uuid.UUID
    email: str
    role: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ProjectRole:
    """A role a user holds on one project, through the project's organisation."""

    project_id: uuid.UUID
    organization_id: uuid.UUID
    role: str


@dataclass(frozen=True, slots=True)
class UserGrants:
    """Everything the authenticator needs about a signed-in user, in one query."""

    user: UserData
    organization_roles: dict[uuid.UUID, str]
    project_roles: list[ProjectRole]


def normal_email(email: str) -> str:
    return email.strip()


async def create_user(
    engine: AsyncEngine | AsyncConnection,
    email: str,
    password_hash: str,
    *,
    is_admin: bool = False,
    must_change_password: bool = False,
) -> UserData:
    """A new user; UserExists when the email (case-insensitive) is taken."""
    statement = text(
        f"INSERT INTO users (id, email, password_hash, is_admin, must_change_password)"
        f" VALUES (:id, :email, :hash, :admin, :must) RETURNING {USER_COLUMNS}"
    )
    values = {
        "id": uuid.uuid4(),
        "email": normal_email(email),
        "hash": password_hash,
        "admin": is_admin,
        "must": must_change_password,
    }
    try:
        if isinstance(engine, AsyncConnection):
            # A savepoint in the caller's transaction: a taken email must not spoil it.
            async with engine.begin_nested():
                row = (await engine.execute(statement, values)).mappings().one()
        else:
            async with engine.begin() as conn:
                row = (await conn.execute(statement, values)).mappings().one()
    except IntegrityError:
        raise UserExists(f"a user with the email {email!r} already exists") from None
    return UserData.from_row(row)


async def count_users(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM users")) or 0)


async def user_by_email(engine: AsyncEngine, email: str) -> UserData | None:
    if "\x00" in email:
        return None  # no stored email has one, and PostgreSQL text cannot hold it
    async with engine.connect() as conn:
        row = (
            (
                await conn.execute(
                    text(f"SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower(:email)"),
                    {"email": normal_email(email)},
                )
            )
            .mappings()
            .first()
        )
    return None if row is None else UserData.from_row(row)


async def user_by_id(engine: AsyncEngine, user_id: uuid.UUID) -> UserData | None:
    async with engine.connect() as conn:
        row = (
            (
                await conn.execute(
                    text(f"SELECT {USER_COLUMNS} FROM users WHERE id = :id"), {"id": user_id}
                )
            )
            .mappings()
            .first()
        )
    return None if row is None else UserData.from_row(row)


async def set_password(engine: AsyncEngine, user_id: uuid.UUID, password_hash: str) -> None:
    """Sets the password and ends every session of the user (its refresh tokens)."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE users SET password_hash = :hash, must_change_password = false,"
                " password_changed_at = now() WHERE id = :id"
            ),
            {"id": user_id, "hash": password_hash},
        )
        await conn.execute(
            text(
                "UPDATE refresh_tokens SET revoked_at = now()"
                " WHERE user_id = :id AND revoked_at IS NULL"
            ),
            {"id": user_id},
        )


async def grants_of_user(engine: AsyncEngine, user_id: uuid.UUID) -> UserGrants | None:
    """The user with its roles in organisations and, through them, in projects; None for
    a missing or disabled user."""
    async with engine.connect() as conn:
        user_row = (
            (
                await conn.execute(
                    text(
                        f"SELECT {USER_COLUMNS} FROM users WHERE id = :id AND disabled_at IS NULL"
                    ),
                    {"id": user_id},
                )
            )
            .mappings()
            .first()
        )
        if user_row is None:
            return None
        rows = (
            await conn.execute(
                text(
                    "SELECT m.organization_id, m.role, p.id AS project_id FROM memberships m"
                    " LEFT JOIN projects p ON p.organization_id = m.organization_id"
                    " WHERE m.user_id = :id"
                ),
                {"id": user_id},
            )
        ).all()
    organizations = {row.organization_id: row.role for row in rows}
    projects = [
        ProjectRole(row.project_id, row.organization_id, row.role)
        for row in rows
        if row.project_id is not None
    ]
    return UserGrants(UserData.from_row(user_row), organizations, projects)


# Organisations and memberships.
async def create_organization(engine: AsyncEngine, name: str) -> uuid.UUID:
    organization_id = uuid.uuid4()
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO organizations (id, name) VALUES (:id, :name)"),
                {"id": organization_id, "name": name},
            )
    except IntegrityError:
        raise OrganizationExists(f"an organization named {name!r} already exists") from None
    return organization_id


async def organization_id_by_name(
    engine: AsyncEngine | AsyncConnection, name: str
) -> uuid.UUID | None:
    statement = text("SELECT id FROM organizations WHERE name = :name")
    async with in_transaction(engine) as conn:
        found = await conn.scalar(statement, {"name": name})
    return None if found is None else uuid.UUID(str(found))


async def set_membership(
    engine: AsyncEngine | AsyncConnection,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
) -> str | None:
    """Gives the user ``role`` in the organisation; returns the role it had before."""
    statement = text(
        """
        WITH before AS (
            SELECT role FROM memberships WHERE organization_id = :org AND user_id = :user
        ), upsert AS (
            INSERT INTO memberships (organization_id, user_id, role) VALUES (:org, :user, :role)
            ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role
        )
        SELECT role FROM before
        """
    )
    values = {"org": organization_id, "user": user_id, "role": role}
    async with in_transaction(engine) as conn:
        previous = await conn.scalar(statement, values)
    return None if previous is None else str(previous)


async def remove_membership(
    engine: AsyncEngine, organization_id: uuid.UUID, user_id: uuid.UUID
) -> str | None:
    """Removes the user from the organisation; returns the role it had (None: none)."""
    async with engine.begin() as conn:
        removed = await conn.scalar(
            text(
                "DELETE FROM memberships WHERE organization_id = :org AND user_id = :user"
                " RETURNING role"
            ),
            {"org": organization_id, "user": user_id},
        )
    return None if removed is None else str(removed)


async def count_owners(engine: AsyncEngine, organization_id: uuid.UUID) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                text(
                    "SELECT count(*) FROM memberships"
                    " WHERE organization_id = :org AND role = 'owner'"
                ),
                {"org": organization_id},
            )
            or 0
        )


async def members_of(
    engine: AsyncEngine, organization_ids: Sequence[uuid.UUID]
) -> list[MembershipData]:
    """The memberships of these organisations, in one query."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT m.organization_id, o.name AS organization_name, m.user_id, u.email,"
                    " m.role, m.created_at FROM memberships m"
                    " JOIN users u ON u.id = m.user_id"
                    " JOIN organizations o ON o.id = m.organization_id"
                    " WHERE m.organization_id = ANY(:orgs) ORDER BY lower(u.email)"
                ),
                {"orgs": list(organization_ids)},
            )
        ).all()
    return [
        MembershipData(
            row.organization_id,
            row.organization_name,
            row.user_id,
            row.email,
            row.role,
            row.created_at,
        )
        for row in rows
    ]


async def organizations_by_ids(
    engine: AsyncEngine, organization_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT id, name FROM organizations WHERE id = ANY(:ids)"),
                {"ids": list(organization_ids)},
            )
        ).all()
    return {row.id: row.name for row in rows}
