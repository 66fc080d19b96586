"""The GraphQL response cache for one trace's read (graph/response_cache.py), on real
Redis and PostgreSQL: hits skip the database, a write is seen at once, even when it
raced a read, and nothing crosses projects or skips the checks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from graphql import parse
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from cache.keys import trace_key
from cache.store import Cache
from devservices import DevServices
from graph.response_cache import cacheable_trace_read
from graph.schema import schema
from storage.otel_ids import trace_id_from_hex
from storage.projects import ALL_SCOPES, DEFAULT_SCOPES, create_project
from tests.databases import fresh_database
from tests.graph.conftest import GraphApi
from tests.graph.seeding import TraceBuilder, store
from tests.secrets_registry import remember_secret

DETAIL = """query Detail($traceId: String!) {
  project { trace(traceId: $traceId) { traceId tags spanCount spans { name depth } } }
}"""


class RacingCache:
    """The app's cache, with ``before_add`` run once just before the next ``add``: a
    write that commits between a reader's database read and its caching."""

    def __init__(self, inner: Cache) -> None:
        self.inner = inner
        self.before_add: Callable[[], Awaitable[None]] | None = None

    async def get(self, kind: str, key: str) -> bytes | None:
        return await self.inner.get(kind, key)

    async def get_many(self, kind: str, keys: Sequence[str]) -> list[bytes | None]:
        return await self.inner.get_many(kind, keys)

    async def add(self, key: str, value: bytes, ttl_s: float) -> None:
        if self.before_add is not None:
            write, self.before_add = self.before_add, None
            await write()
        await self.inner.add(key, value, ttl_s)

    async def generation(self, key: str, ttl_s: float) -> str | None:
        return await self.inner.generation(key, ttl_s)

    async def invalidate(self, keys: Iterable[str]) -> None:
        await self.inner.invalidate(keys)

    async def close(self) -> None:
        await self.inner.close()


class CachedApi(GraphApi):
    cache: RacingCache

    async def detail(self, trace: TraceBuilder, api_key: str | None = None) -> Any:
        result = await self.query(DETAIL, {"traceId": trace.trace_id}, api_key)
        assert "errors" not in result, result["errors"]
        return result["data"]["project"]["trace"]

    async def write(self, trace: TraceBuilder, name: str) -> None:
        """A span more in ``trace``, stored and invalidated as the storage worker does."""
        trace.span(name, offset_ms=5)
        await store(self.engine, self.project_id, trace)
        await self.cache.invalidate([trace_key(self.project_id, trace_id_from_hex(trace.trace_id))])


@pytest.fixture(scope="module")
async def cached_api(services: DevServices) -> AsyncIterator[CachedApi]:
    url = await fresh_database(services, "graph_cache")
    settings = Settings(database_url=url, redis_url=services.redis_url)
    app = build_app(settings, url, Roles(query=True))
    async with app.router.lifespan_context(app):
        engine: AsyncEngine = app.state.query_engine
        project = await create_project(engine, "cache-tests", ALL_SCOPES)
        racing = RacingCache(app.state.cache)
        app.state.cache = racing
        api = CachedApi(
            http=httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test"),
            engine=engine,
            project_id=project.id,
            api_key=remember_secret(project.api_key),
        )
        api.cache = racing
        from sqlalchemy import event

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            api.statements.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        async with api.http:
            yield api


async def _trace(api: CachedApi) -> TraceBuilder:
    trace = TraceBuilder(datetime.now(UTC))
    root = trace.span("agent")
    trace.span("llm", parent=root, offset_ms=1)
    await store(api.engine, api.project_id, trace)
    return trace


def _span_reads(statements: list[str]) -> int:
    return sum(1 for s in statements if "FROM spans" in s)


async def test_a_repeated_trace_read_is_answered_from_the_cache(cached_api: CachedApi) -> None:
    trace = await _trace(cached_api)
    first = await cached_api.detail(trace)
    before = len(cached_api.statements)
    again = await cached_api.detail(trace)
    assert again == first
    assert [s["name"] for s in again["spans"]] == ["agent", "llm"]
    assert _span_reads(cached_api.statements[before:]) == 0


async def test_a_write_after_a_cached_read_is_seen_by_the_next_read(
    cached_api: CachedApi,
) -> None:
    trace = await _trace(cached_api)
    await cached_api.detail(trace)
    assert (await cached_api.detail(trace))["spanCount"] == 2  # cached by now
    await cached_api.write(trace, "tool")
    after = await cached_api.detail(trace)
    assert after["spanCount"] == 3
    assert [s["name"] for s in after["spans"]] == ["agent", "llm", "tool"]


async def test_a_read_that_raced_a_write_is_never_served(cached_api: CachedApi) -> None:
    trace = await _trace(cached_api)
    # The reader reads two spans; the write commits and invalidates before it caches them.
    cached_api.cache.before_add = lambda: cached_api.write(trace, "tool")
    raced = await cached_api.detail(trace)
    assert raced["spanCount"] == 2
    assert cached_api.cache.before_add is None  # the write did happen in between
    for _ in range(2):
        assert (await cached_api.detail(trace))["spanCount"] == 3


async def test_a_mutation_of_the_trace_is_seen_by_the_next_read(cached_api: CachedApi) -> None:
    trace = await _trace(cached_api)
    await cached_api.detail(trace)
    await cached_api.detail(trace)
    found = await cached_api.data(
        "query($t: String!) { project { trace(traceId: $t) { id } } }",
        {"t": trace.trace_id},
    )
    await cached_api.data(
        'mutation($id: ID!) { tagTrace(traceId: $id, add: ["checked"]) { tags } }',
        {"id": found["project"]["trace"]["id"]},
    )
    assert "checked" in (await cached_api.detail(trace))["tags"]


async def test_another_project_never_gets_a_cached_answer(cached_api: CachedApi) -> None:
    trace = await _trace(cached_api)
    await cached_api.detail(trace)
    assert (await cached_api.detail(trace))["spanCount"] == 2
    other = await create_project(cached_api.engine, f"other-{uuid.uuid4().hex[:8]}", DEFAULT_SCOPES)
    assert await cached_api.detail(trace, remember_secret(other.api_key)) is None
    # Asking for the first project by its id is refused as before, cached or not.
    result = await cached_api.query(
        "query($p: ID!, $t: String!) { project(id: $p) { trace(traceId: $t) { name } } }",
        {"p": f"{_project_global_id(cached_api.project_id)}", "t": trace.trace_id},
        remember_secret(other.api_key),
    )
    assert (result.get("data") or {}).get("project") is None


async def test_cached_answers_still_need_credentials_and_are_charged(
    cached_api: CachedApi,
) -> None:
    trace = await _trace(cached_api)
    await cached_api.detail(trace)
    response = await cached_api.http.post(
        "/graphql", json={"query": DETAIL, "variables": {"traceId": trace.trace_id}}
    )
    assert "UNAUTHENTICATED" in response.text or "credentials" in response.text
    remaining = []
    for _ in range(2):
        response = await cached_api.http.post(
            "/graphql",
            json={"query": DETAIL, "variables": {"traceId": trace.trace_id}},
            headers={"Authorization": f"Bearer {cached_api.api_key}"},
        )
        assert response.json()["data"]["project"]["trace"]["spanCount"] == 2
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining[1] < remaining[0]


def _project_global_id(project_id: uuid.UUID) -> str:
    from strawberry import relay

    return str(relay.GlobalID("Project", str(project_id)))


@pytest.mark.parametrize(
    ("document", "cacheable"),
    [
        (DETAIL, True),
        (
            "query($t: String!) { project { trace(traceId: $t) { ...T } } }"
            " fragment T on Trace { name spanTree { span { name } children { span { name } } } }",
            True,
        ),
        ('{ project { trace(traceId: "ab") { spans { name input output depth } } } }', True),
        ('{ project { trace(traceId: "ab") { annotations { name } } } }', False),
        ('{ project { trace(traceId: "ab") { spans { annotations { name } } } } }', False),
        ('{ project { trace(traceId: "ab") { project { name } } } }', False),
        ('{ project { name trace(traceId: "ab") { name } } }', False),
        ('{ viewer { principal } project { trace(traceId: "ab") { name } } }', False),
        (
            '{ project { a: trace(traceId: "ab") { name } b: trace(traceId: "cd") { name } } }',
            False,
        ),
        ("{ __typename }", False),
        (
            'mutation { tagTrace(traceId: "VHJhY2U6eA==", add: ["x"]) { name } }',
            False,
        ),
    ],
)
def test_only_documents_reading_one_traces_own_data_are_cacheable(
    document: str, cacheable: bool
) -> None:
    found = cacheable_trace_read(schema._schema, parse(document), None)
    assert (found is not None) is cacheable


async def test_an_answer_holding_an_integer_past_64_bits_is_served_not_cached(
    cached_api: CachedApi,
) -> None:
    """JSON payloads may hold integers orjson cannot encode (PostgreSQL gives back 1e20
    as 100000000000000000000): the read must still answer, every time."""
    trace = TraceBuilder(datetime.now(UTC))
    trace.span("big", attributes={"order": 1e20})  # stored as JSON, read back as an int
    await store(cached_api.engine, cached_api.project_id, trace)
    query = """query Big($traceId: String!) {
      project { trace(traceId: $traceId) { traceId spans { name attributes } } }
    }"""
    for _ in range(2):
        result = await cached_api.query(query, {"traceId": trace.trace_id})
        assert "errors" not in result, result["errors"]
        assert result["data"]["project"]["trace"]["spans"][0]["attributes"] == {"order": 10**20}
