"""The root Query type."""

from __future__ import annotations

import strawberry
from strawberry import relay

from graph.context import Info
from graph.ids import parse_uuid
from graph.nodes import NodeTypeCheck
from graph.permissions import CanReadTraces
from graph.types.Project import Project


@strawberry.type
class Query:
    node: relay.Node | None = relay.node(
        description="Any object by its global id; null if it does not exist or is not yours.",
        extensions=[NodeTypeCheck()],
    )
    nodes: list[relay.Node | None] = relay.node(
        description="Objects by global id, in order; null where one does not exist or is not yours.",
        extensions=[NodeTypeCheck()],
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
        if id is not None and id.type_name != "Project":
            return None
        project_id = (
            (await info.context.viewer()).project_id
            if id is None
            else parse_uuid(id.node_id, "project")
        )
        [found] = await Project.resolve_nodes(info=info, node_ids=[str(project_id)])
        return found
