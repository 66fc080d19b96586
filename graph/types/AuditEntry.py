from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from storage.audit import AuditEntryData


@strawberry.type(description="Who did what: keys created or revoked, roles changed, data deleted.")
class AuditEntry:
    data: strawberry.Private[AuditEntryData]

    @strawberry.field
    def at(self) -> datetime:
        return self.data.at

    @strawberry.field(description='"user:<id>", "key:<id>", "cli" or "system".')
    def actor(self) -> str:
        return self.data.actor

    @strawberry.field(description='E.g. "api_key.revoked", "member.role_set", "project.deleted".')
    def action(self) -> str:
        return self.data.action

    @strawberry.field(description="The project concerned, as a raw id (it may be deleted).")
    def project_id(self) -> strawberry.ID | None:
        value = self.data.project_id
        return None if value is None else strawberry.ID(str(value))

    @strawberry.field(description='What was acted on, e.g. "api_key:<id>" or "user:<id>".')
    def target(self) -> str | None:
        return self.data.target

    @strawberry.field
    def details(self) -> JSON:
        return JSON(self.data.details)
