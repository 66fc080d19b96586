"""Ingest's rate limits per API key, on the real app: over requests/s or spans/s a request
gets 429 with Retry-After and X-RateLimit-* and publishes nothing; under them it gets the
headers too; the count is shared by replicas on one Redis, kept in memory without one;
and a project's own limits, set through GraphQL, take effect."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from devservices import DevServices
from messaging.span_batch import message_key
from storage.projects import ALL_SCOPES, NewProject, create_project
from storage.rate_limits import update_project_rate_limits
from tests.databases import fresh_database
from tests.payloads import agent_trace_spans, native_batch, new_trace_id, otlp_request, otlp_span

MAX_TRIES = 20
"""Requests sent to find a limit: far more than any limit these tests set."""
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@dataclass
class Replica:
    app: FastAPI
    http: httpx.AsyncClient

    @property
    def engine(self) -> AsyncEngine:
        engine: AsyncEngine = self.app.state.engine
        return engine


@asynccontextmanager
async def replica(url: str, roles: Roles, **settings: Any) -> AsyncIterator[Replica]:
    app = build_app(Settings(database_url=url, **settings), url, roles)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Replica(app, http)


@pytest.fixture(scope="module")
async def database(services: DevServices) -> str:
    return await fresh_database(services, "ingest_limits")


@pytest.fixture(scope="module")
async def first(services: DevServices, database: str) -> AsyncIterator[Replica]:
    """Ingest, worker and API in one process (as ``serve``), counting in Redis."""
    roles = Roles(ingest=True, query=True, worker=True)
    async with replica(database, roles, redis_url=services.redis_url) as started:
        yield started


@pytest.fixture(scope="module")
async def second(services: DevServices, database: str) -> AsyncIterator[Replica]:
    """Another ingest replica on the same database and Redis."""
    async with replica(database, Roles(ingest=True), redis_url=services.redis_url) as started:
        yield started


async def _project(first: Replica, **limits: int) -> NewProject:
    project = await create_project(first.engine, f"limits-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    if limits:
        await update_project_rate_limits(first.engine, project.id, limits)
    return project


async def _send(
    http: httpx.AsyncClient, project: NewProject, spans: int = 1, *, otlp: bool = False
) -> tuple[httpx.Response, str]:
    """One trace of ``spans`` spans, natively or as OTLP protobuf; the answer and its id."""
    trace_id = new_trace_id()
    auth = {"Authorization": f"Bearer {project.api_key}"}
    if otlp:
        body = otlp_request(
            [otlp_span(trace_id, span["span_id"]) for span in agent_trace_spans(1, spans)]
        ).SerializeToString()
        headers = auth | {"content-type": "application/x-protobuf"}
        return await http.post("/v1/traces", content=body, headers=headers), trace_id
    body = orjson.dumps(native_batch(trace_id, agent_trace_spans(1_700_000_000_000, spans)))
    headers = auth | {"content-type": "application/json"}
    return await http.post("/api/v1/traces", content=body, headers=headers), trace_id


async def _until_refused(
    http: httpx.AsyncClient, project: NewProject, spans: int = 1, *, otlp: bool = False
) -> tuple[list[tuple[httpx.Response, str]], tuple[httpx.Response, str]]:
    """Sends until a request is refused: the accepted ones and the refused one."""
    accepted = []
    for _ in range(MAX_TRIES):
        response, trace_id = await _send(http, project, spans, otlp=otlp)
        if response.status_code == 429:
            return accepted, (response, trace_id)
        assert response.status_code == 200, response.text
        accepted.append((response, trace_id))
    raise AssertionError(f"no request of {MAX_TRIES} was refused")


def _assert_refusal(response: httpx.Response, limit: int, names: str, cost: int = 1) -> None:
    assert response.status_code == 429
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert 0 <= int(response.headers["X-RateLimit-Remaining"]) < cost
    assert int(response.headers["X-RateLimit-Reset"]) >= 0
    assert int(response.headers["Retry-After"]) >= 1
    error = response.json()["error"]
    assert names in error
    assert "nothing was stored" in error


async def _published(engine: AsyncEngine, project: NewProject, trace_id: str) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM bus_messages WHERE key = :key"),
            {"key": message_key(project.id, trace_id)},
        )
    return int(found or 0)


async def _stored_traces(engine: AsyncEngine, project: NewProject) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT DISTINCT trace_id FROM spans WHERE project_id = :p"), {"p": project.id}
        )
        return {row.trace_id.hex for row in rows}


async def _wait_stored(engine: AsyncEngine, project: NewProject, trace_ids: set[str]) -> None:
    async with asyncio.timeout(60):
        while not trace_ids <= await _stored_traces(engine, project):  # noqa: ASYNC110  the worker signals nothing
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("otlp", [False, True], ids=["native", "otlp"])
async def test_over_the_requests_limit_is_refused_naming_it_and_publishes_nothing(
    first: Replica, otlp: bool
) -> None:
    project = await _project(first, ingest_requests_per_s=2)
    accepted, (refused, refused_trace) = await _until_refused(first.http, project, otlp=otlp)
    assert len(accepted) >= 2
    ok = accepted[0][0]
    assert ok.headers["X-RateLimit-Limit"] == "2"  # the tighter of its two limits
    assert ok.headers["X-RateLimit-Remaining"] == "1"
    assert "Retry-After" not in ok.headers
    _assert_refusal(refused, 2, "ingest requests/s limit: 2 requests per second")

    assert await _published(first.engine, project, refused_trace) == 0
    await _wait_stored(first.engine, project, {t for _, t in accepted})
    assert refused_trace not in await _stored_traces(first.engine, project)


@pytest.mark.parametrize("otlp", [False, True], ids=["native", "otlp"])
async def test_over_the_spans_limit_is_refused_naming_it_and_publishes_nothing(
    first: Replica, otlp: bool
) -> None:
    project = await _project(first, ingest_spans_per_s=10)
    accepted, (refused, refused_trace) = await _until_refused(first.http, project, 6, otlp=otlp)
    ok = accepted[0][0]
    assert ok.headers["X-RateLimit-Limit"] == "10"
    assert ok.headers["X-RateLimit-Remaining"] == "4"
    # What is left is too little for this request's 6.
    _assert_refusal(refused, 10, "ingest spans/s limit: 10 spans per second", cost=6)
    assert "this request has 6" in refused.json()["error"]

    assert await _published(first.engine, project, refused_trace) == 0
    await _wait_stored(first.engine, project, {t for _, t in accepted})
    assert refused_trace not in await _stored_traces(first.engine, project)


async def test_under_the_server_defaults_answers_carry_the_headers(first: Replica) -> None:
    project = await _project(first)
    response, _ = await _send(first.http, project, 3)
    assert response.status_code == 200
    assert all(name in response.headers for name in RATE_HEADERS)
    # Of 20,000 requests/s and 200,000 spans/s, one request uses more of the first.
    assert response.headers["X-RateLimit-Limit"] == str(Settings().rate_limit_ingest_requests_per_s)


async def test_a_second_replica_sees_the_first_ones_hits(first: Replica, second: Replica) -> None:
    project = await _project(first, ingest_spans_per_s=100)
    ok, _ = await _send(first.http, project, 60)
    assert ok.status_code == 200
    # Alone, the second replica would take 60 of 100 spans; together they are over.
    refused, refused_trace = await _send(second.http, project, 60)
    _assert_refusal(refused, 100, "ingest spans/s limit", cost=60)
    assert await _published(second.engine, project, refused_trace) == 0


async def test_without_redis_a_process_counts_in_memory(database: str) -> None:
    async with replica(database, Roles(ingest=True)) as alone:
        project = await _project(alone, ingest_requests_per_s=1)
        accepted, (refused, _) = await _until_refused(alone.http, project)
        assert accepted
        _assert_refusal(refused, 1, "ingest requests/s limit: 1 request per second")


SET_LIMITS = """mutation ($id: ID!, $requests: Int, $spans: Int) {
  setProjectRateLimits(projectId: $id, ingestRequestsPerSecond: $requests,
                       ingestSpansPerSecond: $spans) {
    project { name } ingestRequestsPerSecond ingestSpansPerSecond graphqlCostPerMinute
  }
}"""


async def _graphql(
    replica: Replica, project: NewProject, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await replica.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {project.api_key}"},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _refuses_soon(replica: Replica, project: NewProject) -> bool:
    """Whether two requests in a row get a 429 (under a limit of 1 request/s)."""
    statuses = [(await _send(replica.http, project))[0].status_code for _ in range(2)]
    return 429 in statuses


async def test_a_projects_own_limits_set_through_graphql_take_effect(
    first: Replica, second: Replica
) -> None:
    project = await _project(first)
    assert not await _refuses_soon(second, project)  # the second replica caches the defaults
    project_id = (await _graphql(first, project, "{ project { id } }", {}))["data"]["project"]
    variables = {"id": project_id["id"], "requests": 1}
    result = await _graphql(first, project, SET_LIMITS, variables)
    defaults = Settings()
    assert result["data"]["setProjectRateLimits"] == {
        "project": {"name": project.name},
        "ingestRequestsPerSecond": 1,
        "ingestSpansPerSecond": defaults.rate_limit_ingest_spans_per_s,
        "graphqlCostPerMinute": defaults.rate_limit_graphql_cost_per_minute,
    }
    # At once in the process that set it...
    _, (refused, _) = await _until_refused(first.http, project)
    _assert_refusal(refused, 1, "ingest requests/s limit: 1 request per second")
    # ...and within the other replica's cache period there.
    async with asyncio.timeout(30):
        while not await _refuses_soon(second, project):  # noqa: ASYNC110  its cache expires silently
            await asyncio.sleep(0.5)

    # Leaving a limit out keeps it; null goes back to the server's default.
    result = await _graphql(first, project, SET_LIMITS, {"id": project_id["id"], "spans": 0})
    assert result["data"]["setProjectRateLimits"]["ingestRequestsPerSecond"] == 1
    assert result["data"]["setProjectRateLimits"]["ingestSpansPerSecond"] == 0
    variables = {"id": project_id["id"], "requests": None}
    result = await _graphql(first, project, SET_LIMITS, variables)
    assert result["data"]["setProjectRateLimits"]["ingestRequestsPerSecond"] == (
        defaults.rate_limit_ingest_requests_per_s
    )
    statuses = [(await _send(first.http, project, 5))[0] for _ in range(5)]
    assert [r.status_code for r in statuses] == [200] * 5
    # Spans unlimited (0): only the requests limit is reported.
    assert statuses[0].headers["X-RateLimit-Limit"] == str(
        defaults.rate_limit_ingest_requests_per_s
    )

    result = await _graphql(first, project, SET_LIMITS, {"id": project_id["id"], "spans": -1})
    assert result["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    assert "ingestSpansPerSecond must be 0 (unlimited) or more" in result["errors"][0]["message"]


async def test_only_a_key_that_may_manage_the_project_sets_its_limits(first: Replica) -> None:
    project = await _project(first)
    project_id = (await _graphql(first, project, "{ project { id } }", {}))["data"]["project"]
    reader = await create_project(first.engine, f"reader-{uuid.uuid4().hex[:8]}")
    result = await _graphql(first, reader, SET_LIMITS, {"id": project_id["id"], "requests": 1})
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Nor may an admin key of one project set another's.
    admin = await _project(first)
    result = await _graphql(first, admin, SET_LIMITS, {"id": project_id["id"], "requests": 1})
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _refuses_soon(first, project) is False
