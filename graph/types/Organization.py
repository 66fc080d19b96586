from __future__ import annotations

import base64
import uuid

import strawberry
from sqlalchemy import text
from strawberry import relay

from access.permissions import Permission
from agenttrace.errors import Forbidden, InvalidArgument
from graph.context import Info
from graph.types.AuditEntry import AuditEntry
from graph.types.Connection import Connection, Edge
from graph.types.Member import Member
from graph.types.Project import Project
from resolvers.paging import page_size
from storage.audit import audit_entries
from storage.users import members_of

_AUDIT_CURSOR = "audit:"


def _audit_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_AUDIT_CURSOR}{entry_id}".encode()).decode().rstrip("=")


def _audit_after(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw.startswith(_AUDIT_CURSOR):
            return int(raw.removeprefix(_AUDIT_CURSOR))
    except (ValueError, UnicodeDecodeError):
        pass
    raise InvalidArgument("cursor is not one this API returned")


@strawberry.type(description="Owns projects; people are its members with a role.")
class Organization:
    id: strawberry.ID
    name: str
    organization_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="What you may do in the organisation as a whole.")
    async def permissions(self, info: Info) -> list[str]:
        viewer = await info.context.viewer()
        return sorted(viewer.organizations.get(self.organization_id, frozenset()))

    @strawberry.field(description="Its projects that you may see.")
    async def projects(self, info: Info) -> list[Project]:
        viewer = await info.context.viewer()
        async with info.context.engine.connect() as conn:
            ids = (
                await conn.scalars(
                    text("SELECT id FROM projects WHERE organization_id = :org ORDER BY name"),
                    {"org": self.organization_id},
                )
            ).all()
        visible = [p for p in ids if p in viewer.projects]
        found = await info.context.loaders.project_by_id.load_many(visible)
        return [Project(data=p) for p in found if p is not None]

    @strawberry.field(
        description="Its members and their roles (admins and owners only; for others null,"
        " with a FORBIDDEN error, so the rest of the answer stays)."
    )
    async def members(self, info: Info) -> list[Member] | None:
        viewer = await info.context.viewer()
        if not viewer.can_in_organization(Permission.MANAGE_MEMBERS, self.organization_id):
            raise Forbidden(viewer.lacks(Permission.MANAGE_MEMBERS))
        found = await members_of(info.context.engine, [self.organization_id])
        return [Member(data=m) for m in found]

    @strawberry.field(
        description="What was done in it, newest first (admins and owners only; for others"
        " null, with a FORBIDDEN error)."
    )
    async def audit_log(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AuditEntry] | None:
        viewer = await info.context.viewer()
        if not viewer.can_in_organization(Permission.READ_AUDIT_LOG, self.organization_id):
            raise Forbidden(viewer.lacks(Permission.READ_AUDIT_LOG))
        size = page_size(first)
        found = await audit_entries(
            info.context.engine,
            [self.organization_id],
            first=size + 1,
            before_id=_audit_after(after),
        )
        entries = found[:size]
        cursors = [_audit_cursor(e.id) for e in entries]
        return Connection(
            edges=[
                Edge(cursor=c, node=AuditEntry(data=e))
                for e, c in zip(entries, cursors, strict=True)
            ],
            page_info=relay.PageInfo(
                has_next_page=len(found) > size,
                has_previous_page=after is not None,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
        )
