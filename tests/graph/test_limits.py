"""No query can run unbounded: depth, aliases, size and time are all limited, and each
refusal says which limit and what to do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text

from agenttrace.settings import Settings
from graph.query_cost import MAX_COST
from graph.schema import MAX_ALIASES, MAX_DEPTH
from resolvers.paging import MAX_PAGE_SIZE
from resolvers.projects import MAX_GROUPS
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


WIDE = """traces(first: 200) { nodes {
    spans { name children { name children { name children { name } } } } } }"""


async def _refused_cost(api: GraphApi, query: str, variables: dict[str, Any] | None = None) -> int:
    """The cost the refusal of ``query`` states; nothing may have run."""
    api.statements.clear()
    result = await api.query(query, variables)
    assert result.get("data") is None, result
    found = re.match(r"query cost ([\d,]+) exceeds the limit", result["errors"][0]["message"])
    assert found is not None, result
    assert api.statements == []
    return int(found[1].replace(",", ""))


async def test_a_size_below_1_cannot_cancel_out_the_rest_of_a_query(graph_api: GraphApi) -> None:
    """A multiplier of 0 or less would let the wide part below through at any size."""
    base = await _refused_cost(graph_api, f"{{ project {{ {WIDE} }} }}")
    for size in ("limit: -2147483648", "limit: 0"):
        query = f"{{ project {{ sessions({size}) {{ id }} {WIDE} }} }}"
        assert await _refused_cost(graph_api, query) == base + 1 + MAX_GROUPS
    for size in ("first: -2147483648", "first: 0"):
        query = f"{{ project {{ spans({size}) {{ nodes {{ name }} }} {WIDE} }} }}"
        assert await _refused_cost(graph_api, query) == base + 1 + 2 * MAX_PAGE_SIZE


async def test_a_limit_from_a_variable_counts_as_the_largest_allowed(graph_api: GraphApi) -> None:
    base = await _refused_cost(graph_api, f"{{ project {{ {WIDE} }} }}")
    query = f"query ($n: Int!) {{ project {{ users(limit: $n) {{ id }} {WIDE} }} }}"
    assert await _refused_cost(graph_api, query, {"n": 1}) == base + 1 + MAX_GROUPS


@pytest.mark.parametrize("limit", [0, -1, MAX_GROUPS + 1])
@pytest.mark.parametrize("field", ["sessions", "users"])
async def test_sessions_and_users_outside_1_to_500_are_refused(
    graph_api: GraphApi, field: str, limit: int
) -> None:
    result = await graph_api.query(f"{{ project {{ {field}(limit: {limit}) {{ id }} }} }}")
    assert result["data"] == {"project": None}
    [error] = result["errors"]
    assert error["message"] == f"limit must be between 1 and {MAX_GROUPS}, got {limit}"
    assert error["extensions"]["code"] == "INVALID_ARGUMENT"


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


async def test_the_api_reads_with_a_statement_timeout_in_utc(graph_api: GraphApi) -> None:
    async with graph_api.engine.connect() as conn:
        assert await conn.scalar(text("SHOW statement_timeout")) == "15s"
        # Day buckets (date_bin) and the series that fills them must agree on midnight.
        assert await conn.scalar(text("SHOW timezone")) == "UTC"


async def test_unauthenticated_query_names_the_missing_key(graph_api: GraphApi) -> None:
    response = await graph_api.http.post("/graphql", json={"query": "{ projects { name } }"})
    body = response.json()
    assert body["errors"][0]["message"].startswith("missing credentials")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    bad = await graph_api.query("{ projects { name } }", api_key="at_nonsense")
    assert bad["errors"][0]["message"] == "invalid API key (unknown, revoked or expired)"
