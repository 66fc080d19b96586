"""The root Query type."""

from __future__ import annotations

import strawberry
from strawberry import relay

from access.permissions import Permission
from graph.context import Info
from graph.ids import parse_uuid
from graph.permissions import CanReadTraces
from graph.types.Project import Project


@strawberry.type
class Query:
    node: relay.Node | None = relay.node(
        description="Any object by its global id; null if it does not exist or is not yours."
    )
    nodes: list[relay.Node | None] = relay.node(
        description="Objects by global id, in order; null where one does not exist or is not yours."
    )

    @strawberry.field(
        permission_classes=[CanReadTraces], description="The projects this caller may read."
    )
    async def projects(self, info: Info) -> list[Project]:
        viewer = await info.context.viewer()
        ids = sorted(viewer.project_ids)
        found = await info.context.loaders.project_by_id.load_many(ids)
        return [Project(data=p) for p in found if p is not None]

    @strawberry.field(
        permission_classes=[CanReadTraces],
        description="A project by global id; without one, the API key's own project.",
    )
    async def project(self, info: Info, id: relay.GlobalID | None = None) -> Project | None:
        if id is None:
            viewer = await info.context.viewer()
            found = await info.context.loaders.project_by_id.load(viewer.project_id)
            return Project(data=found) if found is not None else None
        if id.type_name != "Project":
            return None
        found = await info.context.loaders.project_by_id.load(parse_uuid(id.node_id, "project"))
        return (
            Project(data=found)
            if found is not None
            and (await info.context.viewer()).can(Permission.READ_TRACES, found.id)
            else None
        )
