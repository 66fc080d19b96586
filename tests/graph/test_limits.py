"""No query can run unbounded: depth, aliases, size and time are all limited, and each
refusal says which limit and what to do."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from agenttrace.settings import Settings
from graph.query_cost import MAX_COST
from graph.schema import MAX_ALIASES, MAX_DEPTH
from resolvers.reading import QueryTimeout, reading
from storage.database import create_engine
from tests.graph.conftest import GraphApi


async def test_query_deeper_than_the_limit_is_refused(graph_api: GraphApi) -> None:
    nested = "span { name }"
    for _ in range(MAX_DEPTH):
        nested = f"children {{ {nested} }}"
    query = f'{{ project {{ trace(traceId: "{"0" * 31}1") {{ spanTree {{ {nested} }} }} }} }}'
    result = await graph_api.query(query)
    assert result.get("data") is None
    assert f"exceeds maximum operation depth of {MAX_DEPTH}" in result["errors"][0]["message"]


async def test_query_with_too_many_aliases_is_refused(graph_api: GraphApi) -> None:
    fields = " ".join(f"a{n}: name" for n in range(MAX_ALIASES + 1))
    result = await graph_api.query(f"{{ project {{ {fields} }} }}")
    assert result.get("data") is None
    assert (
        f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}" in result["errors"][0]["message"]
    )


async def test_query_too_wide_for_its_depth_is_refused_before_it_runs(graph_api: GraphApi) -> None:
    graph_api.statements.clear()
    query = """{ project { traces(first: 200) { nodes {
        spans { name children { name children { name children { name } } } } } } } }"""
    result = await graph_api.query(query)
    assert result.get("data") is None
    message = result["errors"][0]["message"]
    assert message.startswith("query cost ")
    assert f"exceeds the limit of {MAX_COST:,}" in message
    assert graph_api.statements == []


async def test_the_dashboards_trace_list_is_well_within_the_cost_limit(graph_api: GraphApi) -> None:
    query = """query ($after: String) { project { traces(first: 50, after: $after) {
        nodes { traceId name status startTime durationMs spanCount totalTokens cost tags
                rootSpans { name kind } }
        pageInfo { endCursor hasNextPage } } } }"""
    result = await graph_api.query(query)
    assert "errors" not in result, result


async def test_statement_past_the_timeout_is_a_clear_error(graph_api: GraphApi) -> None:
    assert Settings().query_statement_timeout_ms > 0
    url = graph_api.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=1, statement_timeout_ms=50)
    try:
        with pytest.raises(QueryTimeout, match="narrow the time range or filters"):
            async with reading(engine) as conn:
                await conn.execute(text("SELECT pg_sleep(2)"))
    finally:
        await engine.dispose()


async def test_the_api_reads_with_a_statement_timeout(graph_api: GraphApi) -> None:
    async with graph_api.engine.connect() as conn:
        assert await conn.scalar(text("SHOW statement_timeout")) == "15s"


async def test_unauthenticated_query_names_the_missing_key(graph_api: GraphApi) -> None:
    response = await graph_api.http.post("/graphql", json={"query": "{ projects { name } }"})
    body = response.json()
    assert body["errors"][0]["message"].startswith("missing API key")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    bad = await graph_api.query("{ projects { name } }", api_key="at_nonsense")
    assert bad["errors"][0]["message"] == "invalid API key (unknown, revoked or expired)"
