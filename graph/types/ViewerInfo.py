from __future__ import annotations

import strawberry

from graph.context import Info
from graph.types.Organization import Organization
from storage.users import organizations_by_ids


@strawberry.type(name="Viewer", description="Who is calling: a person or an API key.")
class ViewerInfo:
    principal: str = strawberry.field(description='"user:<id>" or "key:<id>".')
    email: str | None = strawberry.field(description="Null for an API key.")
    is_admin: bool = strawberry.field(
        description="A server administrator: may create users and organizations."
    )
    must_change_password: bool = strawberry.field(
        description="Signed in with a one-time password: change it first."
    )

    @strawberry.field(description="The organizations you act in.")
    async def organizations(self, info: Info) -> list[Organization]:
        viewer = await info.context.viewer()
        names = await organizations_by_ids(info.context.engine, sorted(viewer.organizations))
        return [
            Organization(id=strawberry.ID(str(org)), name=name, organization_id=org)
            for org, name in sorted(names.items(), key=lambda item: item[1])
        ]
