"""The root Query type."""

from __future__ import annotations

import strawberry
from strawberry import relay

from access.permissions import Permission
from graph.context import Info
from graph.ids import parse_uuid
from graph.nodes import NodeTypeCheck
from graph.permissions import CanReadTraces
from graph.types.Project import Project
from graph.types.ViewerInfo import ViewerInfo


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

    @strawberry.field(description="Who is calling: a signed-in person or an API key.")
    async def viewer(self, info: Info) -> ViewerInfo:
        viewer = await info.context.viewer()  # Unauthorized without credentials
        return ViewerInfo(
            principal=viewer.principal,
            email=viewer.email,
            is_admin=viewer.is_admin,
            must_change_password=viewer.must_change_password,
        )

    @strawberry.field(
        permission_classes=[CanReadTraces], description="The projects this caller may read."
    )
    async def projects(self, info: Info) -> list[Project]:
        viewer = await info.context.viewer()
        ids = sorted(p for p in viewer.project_ids if viewer.can(Permission.READ_TRACES, p))
        found = await info.context.loaders.project_by_id.load_many(ids)
        return [Project(data=p) for p in found if p is not None]

    @strawberry.field(
        permission_classes=[CanReadTraces],
        description="A project by global id; without one, the caller's only project.",
    )
    async def project(self, info: Info, id: relay.GlobalID | None = None) -> Project | None:
        if id is not None and id.type_name != "Project":
            return None
        if id is None:
            project_id = await info.context.only_project(Permission.READ_TRACES)
        else:
            project_id = parse_uuid(id.node_id, "project")
        [found] = await Project.resolve_nodes(info=info, node_ids=[str(project_id)])
        return found
