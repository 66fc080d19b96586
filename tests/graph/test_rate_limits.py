"""The GraphQL cost budget per caller: charged with each operation's estimated cost before
it runs, refused with RATE_LIMITED (HTTP 429, Retry-After, X-RateLimit-*) before any SQL,
shared by API replicas on one Redis, not charged to callers without credentials, and
charged once per subscription."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from graphql import parse
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from devservices import DevServices
from graph.query_cost import operation_cost
from graph.schema import schema
from storage.projects import ALL_SCOPES, NewProject, create_project
from storage.rate_limits import update_project_rate_limits
from tests.databases import fresh_database
from tests.graph.conftest import GraphApi
from tests.graph.live_server import serving
from tests.graph.seeding import TraceBuilder, store_and_announce

TRACES = "query Traces { project { traces(first: 10) { nodes { traceId name } } } }"
TRACES_COST = operation_cost(schema._schema, parse(TRACES), None)


@dataclass
class Api:
    app: FastAPI
    http: httpx.AsyncClient
    statements: list[str] = field(default_factory=list)
    """Every statement the app's query engine ran (where every resolver reads)."""

    @property
    def engine(self) -> AsyncEngine:
        engine: AsyncEngine = self.app.state.engine
        return engine

    async def post(self, query: str, api_key: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return await self.http.post("/graphql", json={"query": query}, headers=headers)


@asynccontextmanager
async def _api(url: str, redis_url: str) -> AsyncIterator[Api]:
    app = build_app(Settings(database_url=url, redis_url=redis_url), url, Roles(query=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            api = Api(app, http)

            def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
                api.statements.append(statement)

            event.listen(app.state.query_engine.sync_engine, "before_cursor_execute", count)
            yield api


@pytest.fixture(scope="module")
async def replicas(services: DevServices) -> AsyncIterator[tuple[Api, Api]]:
    """Two API replicas on one database and one Redis."""
    url = await fresh_database(services, "graph_limits")
    async with _api(url, services.redis_url) as first, _api(url, services.redis_url) as second:
        yield first, second


async def _project_with_budget(api: Api, budget: int) -> NewProject:
    project = await create_project(api.engine, f"budget-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    await update_project_rate_limits(api.engine, project.id, {"graphql_cost_per_minute": budget})
    return project


def _assert_budget_refusal(response: httpx.Response, budget: int) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Limit"] == str(budget)
    assert int(response.headers["X-RateLimit-Remaining"]) < TRACES_COST
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert f"GraphQL cost/minute budget: {budget:,} of query cost per minute" in error["message"]
    assert f"this operation costs {TRACES_COST:,}" in error["message"]


async def test_over_the_cost_budget_is_refused_before_any_sql_runs(
    replicas: tuple[Api, Api],
) -> None:
    api, _ = replicas
    budget = TRACES_COST + TRACES_COST // 2
    project = await _project_with_budget(api, budget)
    ok = await api.post(TRACES, project.api_key)
    assert ok.status_code == 200
    assert "errors" not in ok.json()
    assert ok.headers["X-RateLimit-Limit"] == str(budget)
    assert ok.headers["X-RateLimit-Remaining"] == str(budget - TRACES_COST)
    assert "Retry-After" not in ok.headers

    api.statements.clear()
    refused = await api.post(TRACES, project.api_key)
    _assert_budget_refusal(refused, budget)
    assert api.statements == []


async def test_the_budget_is_shared_by_the_api_replicas(replicas: tuple[Api, Api]) -> None:
    first, second = replicas
    budget = TRACES_COST + TRACES_COST // 2
    project = await _project_with_budget(first, budget)
    assert (await first.post(TRACES, project.api_key)).status_code == 200
    second.statements.clear()
    _assert_budget_refusal(await second.post(TRACES, project.api_key), budget)
    assert second.statements == []


async def test_a_caller_without_credentials_is_not_charged(replicas: tuple[Api, Api]) -> None:
    api, _ = replicas
    response = await api.post(TRACES, None)
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "X-RateLimit-Limit" not in response.headers


SUBSCRIPTION = "subscription { traceUpdates { traceId name } }"
SUBSCRIPTION_COST = operation_cost(schema._schema, parse(SUBSCRIPTION), None)


async def test_a_subscription_is_charged_once_when_it_starts(
    services: DevServices, graph_api: GraphApi
) -> None:
    # Room for exactly one subscription: charged per event, its second event would fail.
    async with serving(
        services, graph_api, rate_limit_graphql_cost_per_minute=SUBSCRIPTION_COST
    ) as server:
        received: list[dict[str, Any]] = []

        async def collect() -> None:
            async with server.client() as session:
                async for result in session.subscribe(GraphQLRequest(SUBSCRIPTION)):
                    received.append(result)
                    if len(received) == 3:
                        return

        collector = asyncio.create_task(collect())
        async with asyncio.timeout(30):
            while not collector.done():  # live only a moment after it was sent: repeat
                trace = TraceBuilder(datetime.now(UTC))
                trace.span("agent", kind="AGENT")
                await store_and_announce(
                    graph_api.engine, server.project_id, trace, live=server.publisher
                )
                await asyncio.wait([collector], timeout=0.3)
        await collector

        async def subscribe_again() -> None:
            async with server.client() as session:
                async for _ in session.subscribe(GraphQLRequest(SUBSCRIPTION)):
                    pass

        with pytest.raises(TransportQueryError, match="GraphQL cost/minute budget") as refused:
            await subscribe_again()
        assert refused.value.errors is not None
        assert refused.value.errors[0]["extensions"]["code"] == "RATE_LIMITED"
