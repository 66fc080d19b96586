"""The GraphQL cost budget: each caller (``Viewer.principal``) may spend so much query cost
per minute (AGENTTRACE_RATE_LIMIT_GRAPHQL_COST_PER_MINUTE, or its project's own). Each
operation is charged the cost graph/query_cost.py estimates, after validation and before
anything executes, so a refused query never reaches the database. A subscription is
charged once, when it starts.

Over the budget: the GraphQL error RATE_LIMITED, over HTTP with status 429, Retry-After
and the X-RateLimit-* headers (which successful answers carry too). A caller without
valid credentials is not charged: its fields refuse it anyway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from access.project_limits import GRAPHQL_COST, ProjectLimitsResolver
from access.rate_limits import RateLimiter
from agenttrace.errors import RateLimited, UserError
from graph.query_cost import operation_cost


def _app_state(context: Any) -> Any:
    # The limiter and the limits are the app's (agenttrace/apps.py), like everything else
    # in the context; the request's app holds them for HTTP and WebSocket alike.
    connection = getattr(context, "request", None)
    return connection.app.state if isinstance(connection, HTTPConnection) else None


def project_limits_of(context: Any) -> ProjectLimitsResolver | None:
    """The app's cache of per-project limits (None outside an app, as in unit tests)."""
    state = _app_state(context)
    limits: ProjectLimitsResolver | None = getattr(state, "project_limits", None)
    return limits


class CostBudget(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        await self._charge()
        yield

    async def _charge(self) -> None:
        execution = self.execution_context
        context = execution.context
        state = _app_state(context)
        limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
        limits: ProjectLimitsResolver | None = getattr(state, "project_limits", None)
        if limiter is None or limits is None or execution.graphql_document is None:
            return
        try:
            viewer = await context.viewer()
        except UserError:
            return  # not charged: without valid credentials nothing will run
        # A key has one project, whose own budget applies; a person's projects may differ,
        # so a person gets the server's.
        projects = viewer.project_ids
        project = next(iter(projects)) if len(projects) == 1 else None
        budget = (await limits.of(project)).graphql_cost
        if budget is None:
            return
        cost = operation_cost(
            execution.schema._schema, execution.graphql_document, execution.operation_name
        )
        decision = await limiter.hit(GRAPHQL_COST, viewer.principal, budget, cost=cost)
        headers = decision.headers()
        response = getattr(context, "response", None)
        if isinstance(response, Response):  # HTTP; a WebSocket has no status to set
            response.headers.update(headers)
            if not decision.allowed:
                response.status_code = 429
        if not decision.allowed:
            raise RateLimited(
                f"rate limit exceeded (GraphQL cost/minute budget: {budget.amount:,} of query cost per minute"
                f" per caller; this operation costs {cost:,}); nothing was run, retry after"
                f" {headers['Retry-After']} s",
                headers=headers,
            )


def cost_budget() -> CostBudget:
    return CostBudget()
