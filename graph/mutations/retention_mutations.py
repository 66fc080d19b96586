"""How long a project keeps its traces (workers/retention.py deletes older ones)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from access.permissions import Permission
from agenttrace.errors import InvalidArgument, NotFound
from graph.context import Info
from graph.ids import node_id_of, parse_uuid
from graph.permissions import CanManageProject
from graph.types.Project import Project
from storage import audit
from storage.retention import set_project_retention_days

MAX_RETENTION_DAYS = 36_500


@strawberry.type
class RetentionMutationMixin:
    @strawberry.mutation(
        permission_classes=[CanManageProject],
        description="Sets how many days the project keeps a trace, counted from its start:"
        " older traces are deleted whole, in small batches, by the storage worker's"
        " retention job (hourly by default). 0 keeps traces for ever; null goes back to"
        " the server's default (AGENTTRACE_RETENTION_DAYS). Returns the project (see its"
        " retentionDays).",
    )
    async def set_project_retention(
        self, info: Info, project_id: relay.GlobalID, days: int | None
    ) -> Project:
        project = parse_uuid(node_id_of(project_id, "Project", "projectId"), "project")
        project = await info.context.project_for(project, Permission.MANAGE_PROJECT)
        if days is not None and not 0 <= days <= MAX_RETENTION_DAYS:
            raise InvalidArgument(f"days must be 0 (for ever) to {MAX_RETENTION_DAYS}, or null")
        if not await set_project_retention_days(info.context.write_engine, project, days):
            raise NotFound("no such project")
        await audit.record(
            info.context.write_engine,
            (await info.context.viewer()).principal,
            "project.retention_set",
            project_id=project,
            target=f"project:{project}",
            details={"days": days},
        )
        found = await info.context.loaders.project_by_id.load(project)
        if found is None:
            raise NotFound("no such project")
        return Project(data=found)
