from __future__ import annotations

import strawberry

from graph.types.Project import Project


@strawberry.type(
    description="The rate limits in force for a project: its own where set, else the"
    " server's defaults (AGENTTRACE_RATE_LIMIT_*). 0 means unlimited. Ingest and the API"
    " apply a change within seconds."
)
class ProjectRateLimits:
    project: Project
    ingest_requests_per_second: int = strawberry.field(
        description="Ingest requests per second, per API key of the project."
    )
    ingest_spans_per_second: int = strawberry.field(
        description="Spans per second ingested, per API key of the project."
    )
    graphql_cost_per_minute: int = strawberry.field(
        description="GraphQL query cost per minute, per API key of the project: each"
        " operation spends the cost estimated for it before it runs."
    )
