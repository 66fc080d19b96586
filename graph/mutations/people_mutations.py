"""People: organisations, users and their roles. Every change is in the audit log."""

from __future__ import annotations

import uuid

import strawberry

from access.accounts import create_person
from access.permissions import Permission
from access.viewer import Viewer
from agenttrace.errors import Conflict, Forbidden, InvalidArgument, NotFound
from graph.context import Info
from graph.ids import parse_uuid
from graph.permissions import CanManageMembers, IsServerAdmin
from graph.types.CreateUserPayload import CreateUserPayload
from graph.types.Member import Member
from graph.types.Organization import Organization
from graph.types.Role import Role
from storage import audit
from storage.users import (
    OrganizationExists,
    UserExists,
    count_owners,
    create_organization,
    members_of,
    organizations_by_ids,
    remove_membership,
    set_membership,
    user_by_email,
)

MAX_ORGANIZATION_NAME_CHARS = 100


def _managed_organization(viewer: Viewer, organization_id: strawberry.ID) -> uuid.UUID:
    organization = parse_uuid(str(organization_id), "organization")
    if not viewer.can_in_organization(Permission.MANAGE_MEMBERS, organization):
        # Another organisation's id gets the same answer as a missing one.
        raise NotFound("no such organization, or you may not manage its members")
    return organization


async def _check_owner_change(
    info: Info, viewer: Viewer, organization: uuid.UUID, before: str | None, after: str | None
) -> None:
    """Only owners make or unmake owners, and an organisation keeps at least one."""
    touches_owner = "owner" in (before, after)
    if touches_owner and not viewer.can_in_organization(Permission.MANAGE_OWNERS, organization):
        raise Forbidden("only an owner may make or change an owner")
    if (
        before == "owner"
        and after != "owner"
        and await count_owners(info.context.write_engine, organization) <= 1
    ):
        raise Conflict("this is the organization's last owner; make another owner first")


@strawberry.type
class PeopleMutationMixin:
    @strawberry.mutation(
        permission_classes=[IsServerAdmin],
        description="A new organization; you become its owner.",
    )
    async def create_organization(self, info: Info, name: str) -> Organization:
        viewer = await info.context.viewer()
        name = name.strip()
        if not name or len(name) > MAX_ORGANIZATION_NAME_CHARS or "\x00" in name:
            raise InvalidArgument(
                f"name must be 1 to {MAX_ORGANIZATION_NAME_CHARS} characters, without NUL"
            )
        try:
            organization = await create_organization(info.context.write_engine, name)
        except OrganizationExists as exc:
            raise Conflict(f"{exc}; choose another name") from None
        assert viewer.user_id is not None
        await set_membership(info.context.write_engine, organization, viewer.user_id, "owner")
        await audit.record(
            info.context.write_engine,
            viewer.principal,
            "organization.created",
            organization_id=organization,
            details={"name": name},
        )
        info.context.auth.forget_user(viewer.user_id)
        return Organization(
            id=strawberry.ID(str(organization)), name=name, organization_id=organization
        )

    @strawberry.mutation(
        permission_classes=[IsServerAdmin],
        description="A new user, optionally with a role in an organization. Without a"
        " password, a one-time password is made up and returned this once.",
    )
    async def create_user(
        self,
        info: Info,
        email: str,
        password: str | None = None,
        is_admin: bool = False,
        organization_id: strawberry.ID | None = None,
        role: Role | None = None,
    ) -> CreateUserPayload:
        viewer = await info.context.viewer()
        organization_name = None
        if (organization_id is None) != (role is None):
            raise InvalidArgument("give both organizationId and role, or neither")
        if organization_id is not None:
            organization = parse_uuid(str(organization_id), "organization")
            names = await organizations_by_ids(info.context.write_engine, [organization])
            if organization not in names:
                raise NotFound("no such organization")
            organization_name = names[organization]
        try:
            user_id, one_time = await create_person(
                info.context.write_engine,
                email,
                password,
                is_admin=is_admin,
                organization=organization_name,
                role=None if role is None else role.value,
                actor=viewer.principal,
            )
        except UserExists as exc:
            raise Conflict(str(exc)) from None
        return CreateUserPayload(
            user_id=strawberry.ID(str(user_id)), email=email.strip(), one_time_password=one_time
        )

    @strawberry.mutation(
        permission_classes=[CanManageMembers],
        description="Gives a user (by email) a role in the organization, adding them if they"
        " are not a member. Only owners make or change owners.",
    )
    async def set_member_role(
        self, info: Info, organization_id: strawberry.ID, email: str, role: Role
    ) -> Member:
        viewer = await info.context.viewer()
        organization = _managed_organization(viewer, organization_id)
        user = await user_by_email(info.context.write_engine, email)
        if user is None:
            raise NotFound(f"no user with the email {email.strip()!r}")
        members = await members_of(info.context.write_engine, [organization])
        before = next((m.role for m in members if m.user_id == user.id), None)
        await _check_owner_change(info, viewer, organization, before, role.value)
        await set_membership(info.context.write_engine, organization, user.id, role.value)
        await audit.record(
            info.context.write_engine,
            viewer.principal,
            "member.role_set",
            organization_id=organization,
            target=f"user:{user.id}",
            details={"email": user.email, "before": before, "role": role.value},
        )
        info.context.auth.forget_user(user.id)
        [member] = [
            m
            for m in await members_of(info.context.write_engine, [organization])
            if m.user_id == user.id
        ]
        return Member(data=member)

    @strawberry.mutation(
        permission_classes=[CanManageMembers],
        description="Removes a user from the organization. Returns whether they were a member.",
    )
    async def remove_member(
        self, info: Info, organization_id: strawberry.ID, user_id: strawberry.ID
    ) -> bool:
        viewer = await info.context.viewer()
        organization = _managed_organization(viewer, organization_id)
        user = parse_uuid(str(user_id), "user")
        members = await members_of(info.context.write_engine, [organization])
        before = next((m.role for m in members if m.user_id == user), None)
        if before is None:
            return False
        await _check_owner_change(info, viewer, organization, before, None)
        removed = await remove_membership(info.context.write_engine, organization, user)
        await audit.record(
            info.context.write_engine,
            viewer.principal,
            "member.removed",
            organization_id=organization,
            target=f"user:{user}",
            details={"role": removed},
        )
        info.context.auth.forget_user(user)
        return removed is not None
