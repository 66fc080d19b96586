from __future__ import annotations

from datetime import datetime

import strawberry

from graph.types.Role import Role
from storage.users import MembershipData


@strawberry.type(description="A person in an organisation, with their role there.")
class Member:
    data: strawberry.Private[MembershipData]

    @strawberry.field
    def user_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.data.user_id))

    @strawberry.field
    def email(self) -> str:
        return self.data.email

    @strawberry.field
    def role(self) -> Role:
        return Role(self.data.role)

    @strawberry.field(description="When they joined the organisation.")
    def since(self) -> datetime:
        return self.data.created_at
