"""Setting a project's own rate limits (access/project_limits.py applies them)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from access.permissions import Permission
from access.project_limits import ProjectLimits
from agenttrace.errors import InvalidArgument, NotFound
from graph.context import Info
from graph.ids import node_id_of, parse_uuid
from graph.permissions import CanManageProject
from graph.rate_limits import project_limits_of
from graph.types.Project import Project
from graph.types.ProjectRateLimits import ProjectRateLimits
from storage import audit
from storage.rate_limits import update_project_rate_limits

_UNCHANGED = strawberry.UNSET

LIMIT_ARGUMENTS = {
    "ingest_requests_per_s": "ingestRequestsPerSecond",
    "ingest_spans_per_s": "ingestSpansPerSecond",
    "graphql_cost_per_minute": "graphqlCostPerMinute",
}
"""The stored name of each limit and its argument."""


@strawberry.type
class RateLimitMutationMixin:
    @strawberry.mutation(
        permission_classes=[CanManageProject],
        description="Sets the project's own rate limits. Per limit: a number sets it (0:"
        " unlimited), null goes back to the server's default, leaving it out keeps it as"
        " it is. Returns the limits now in force.",
    )
    async def set_project_rate_limits(
        self,
        info: Info,
        project_id: relay.GlobalID,
        ingest_requests_per_second: int | None = _UNCHANGED,
        ingest_spans_per_second: int | None = _UNCHANGED,
        graphql_cost_per_minute: int | None = _UNCHANGED,
    ) -> ProjectRateLimits:
        project = parse_uuid(node_id_of(project_id, "Project", "projectId"), "project")
        project = await info.context.project_for(project, Permission.MANAGE_PROJECT)
        given = {
            "ingest_requests_per_s": ingest_requests_per_second,
            "ingest_spans_per_s": ingest_spans_per_second,
            "graphql_cost_per_minute": graphql_cost_per_minute,
        }
        values: dict[str, int] = {}
        cleared: set[str] = set()
        for name, value in given.items():
            if value is _UNCHANGED:
                continue
            if value is None:
                cleared.add(name)
            elif value < 0:
                raise InvalidArgument(f"{LIMIT_ARGUMENTS[name]} must be 0 (unlimited) or more")
            else:
                values[name] = value
        overrides = await update_project_rate_limits(
            info.context.write_engine, project, values, frozenset(cleared)
        )
        found = await info.context.loaders.project_by_id.load(project)
        if overrides is None or found is None:
            raise NotFound("no such project")
        await audit.record(
            info.context.write_engine,
            (await info.context.viewer()).principal,
            "project.rate_limits_set",
            project_id=project,
            target=f"project:{project}",
            details={"set": values, "cleared": sorted(cleared)},
        )
        if (resolver := project_limits_of(info.context)) is not None:
            resolver.forget(project)  # in force at once here, within seconds elsewhere
        limits = ProjectLimits.of(info.context.settings, overrides)
        return ProjectRateLimits(
            project=Project(data=found),
            ingest_requests_per_second=limits.ingest_requests_per_s,
            ingest_spans_per_second=limits.ingest_spans_per_s,
            graphql_cost_per_minute=limits.graphql_cost_per_minute,
        )
