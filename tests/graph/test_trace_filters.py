"""Every trace and span filter, and every sort, against a small known project."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.projects import ALL_SCOPES, create_project
from tests.graph.conftest import GraphApi
from tests.graph.seeding import TraceBuilder, store

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)

TRACES_QUERY = """
query ($filter: TraceFilter, $sort: SortInput, $first: Int, $after: String) {
  project { traces(filter: $filter, sort: $sort, first: $first, after: $after) {
    nodes { name }
    pageInfo { hasNextPage endCursor }
  } }
}
"""


@pytest.fixture(scope="module")
async def project_key(graph_api: GraphApi) -> str:
    """Five traces whose names say what sets them apart."""
    project = await create_project(graph_api.engine, f"filters-{uuid.uuid4().hex[:8]}", ALL_SCOPES)

    traces = []
    a = TraceBuilder(T0, user_id="alice", session_id="s1", environment="prod", tags=["beta"])
    root = a.span("checkout agent", kind="AGENT", duration_ms=2000, metadata={"tenant": "acme"})
    a.span(
        "chat",
        parent=root,
        kind="LLM",
        offset_ms=5,
        duration_ms=1500,
        model="gpt-4o",
        input_tokens=1000,
        output_tokens=200,
        cost=0.5,
        attributes={"llm.provider": "openai"},
    )
    traces.append(a)
    b = TraceBuilder(T0 + timedelta(minutes=1), user_id="bob", environment="staging")
    root = b.span("search agent", kind="AGENT", duration_ms=300, tags=["beta", "eu"])
    b.span("lookup", parent=root, kind="TOOL", offset_ms=1, status="ERROR")
    traces.append(b)
    c = TraceBuilder(T0 + timedelta(minutes=2), user_id="alice", session_id="s2")
    root = c.span("summarize", kind="CHAIN", duration_ms=50)
    c.span(
        "claude",
        parent=root,
        kind="LLM",
        offset_ms=1,
        model="claude-3",
        input_tokens=10,
        output_tokens=5,
        cost=0.01,
    )
    traces.append(c)
    d = TraceBuilder(T0 + timedelta(minutes=3), environment="prod")
    d.span("still running", kind="AGENT", duration_ms=None)
    traces.append(d)
    e = TraceBuilder(T0 + timedelta(hours=5))
    e.span("much later", kind="AGENT", duration_ms=10, metadata={"tenant": "globex"})
    traces.append(e)
    await store(graph_api.engine, project.id, *traces)
    return project.api_key


async def _names(api: GraphApi, key: str, **variables: Any) -> list[str]:
    result = await api.query(TRACES_QUERY, variables, api_key=key)
    assert "errors" not in result, result
    return [n["name"] for n in result["data"]["project"]["traces"]["nodes"]]


FILTERS: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"checkout agent", "search agent", "summarize", "still running", "much later"}),
    (
        {"timeRange": {"start": "2026-03-01T09:00:00Z", "end": "2026-03-01T09:02:00Z"}},
        {"checkout agent", "search agent"},
    ),
    ({"status": ["ERROR"]}, {"search agent"}),
    ({"status": ["RUNNING"]}, {"still running"}),
    ({"status": ["OK", "RUNNING"]}, {"checkout agent", "summarize", "still running", "much later"}),
    ({"name": {"equals": "summarize"}}, {"summarize"}),
    ({"name": {"contains": "AGENT"}}, {"checkout agent", "search agent"}),
    ({"name": {"contains": "%"}}, set()),
    ({"spanKind": ["TOOL"]}, {"search agent"}),
    ({"model": ["gpt-4o", "claude-3"]}, {"checkout agent", "summarize"}),
    ({"tagsAny": ["eu", "beta"]}, {"checkout agent", "search agent"}),
    ({"tagsAll": ["eu", "beta"]}, {"search agent"}),
    ({"metadata": [{"key": "tenant", "value": "acme"}]}, {"checkout agent"}),
    ({"attributes": [{"key": "llm.provider", "value": "openai"}]}, {"checkout agent"}),
    ({"userId": ["alice"]}, {"checkout agent", "summarize"}),
    ({"sessionId": ["s2"]}, {"summarize"}),
    ({"environment": ["prod"]}, {"checkout agent", "still running"}),
    ({"durationMs": {"min": 100, "max": 1000}}, {"search agent"}),
    ({"cost": {"min": 0.1}}, {"checkout agent"}),
    ({"hasError": True}, {"search agent"}),
    ({"userId": ["alice"], "model": ["claude-3"]}, {"summarize"}),
]


@pytest.mark.parametrize(("trace_filter", "expected"), FILTERS)
async def test_trace_filter_selects_exactly_the_matching_traces(
    graph_api: GraphApi, project_key: str, trace_filter: dict[str, Any], expected: set[str]
) -> None:
    assert set(await _names(graph_api, project_key, filter=trace_filter)) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ({}, ["much later", "still running", "summarize", "search agent", "checkout agent"]),
        ({"field": "START_TIME", "direction": "ASC"}, ["checkout agent", "search agent"]),
        ({"field": "DURATION"}, ["checkout agent", "search agent", "summarize"]),
        ({"field": "COST"}, ["checkout agent", "summarize"]),
        ({"field": "TOKENS"}, ["checkout agent", "summarize"]),
        ({"field": "DURATION", "direction": "ASC"}, ["still running", "much later"]),
    ],
)
async def test_traces_sort_by_time_duration_cost_and_tokens(
    graph_api: GraphApi, project_key: str, sort: dict[str, str], expected: list[str]
) -> None:
    names = await _names(graph_api, project_key, sort=sort)
    assert names[: len(expected)] == expected


async def test_sorted_pages_walk_every_trace_once(graph_api: GraphApi, project_key: str) -> None:
    for sort in ({"field": "DURATION"}, {"field": "COST", "direction": "ASC"}, {}):
        seen: list[str] = []
        after = None
        while True:
            result = await graph_api.query(
                TRACES_QUERY, {"sort": sort, "first": 2, "after": after}, api_key=project_key
            )
            page = result["data"]["project"]["traces"]
            seen += [n["name"] for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == len(set(seen)) == 5


SPANS_QUERY = """
query ($filter: SpanFilter, $sort: SortInput) {
  project { spans(filter: $filter, sort: $sort, first: 50) { nodes { name } } }
}
"""


@pytest.mark.parametrize(
    ("span_filter", "expected"),
    [
        ({"kind": ["LLM"]}, {"chat", "claude"}),
        ({"model": ["gpt-4o"]}, {"chat"}),
        ({"hasError": True}, {"lookup"}),
        ({"status": ["ERROR"]}, {"lookup"}),
        ({"name": {"contains": "look"}}, {"lookup"}),
        ({"durationMs": {"min": 1000}}, {"chat", "checkout agent"}),
        ({"attributes": [{"key": "llm.provider", "value": "openai"}]}, {"chat"}),
        ({"tagsAll": ["eu"]}, {"search agent"}),
        ({"userId": ["bob"], "kind": ["TOOL"]}, {"lookup"}),
    ],
)
async def test_span_filter_selects_exactly_the_matching_spans(
    graph_api: GraphApi, project_key: str, span_filter: dict[str, Any], expected: set[str]
) -> None:
    result = await graph_api.query(SPANS_QUERY, {"filter": span_filter}, api_key=project_key)
    assert "errors" not in result, result
    assert {n["name"] for n in result["data"]["project"]["spans"]["nodes"]} == expected


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 201}, "first must be between 1 and 200, got 201"),
        ({"first": 0}, "first must be between 1 and 200, got 0"),
        ({"after": "not-a-cursor"}, "cursor is not one this API returned"),
        (
            {
                "filter": {
                    "timeRange": {"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}
                }
            },
            "time range start must be before its end",
        ),
        ({"filter": {"cost": {"min": 2, "max": 1}}}, "range min must not be greater than its max"),
    ],
)
async def test_bad_list_arguments_get_clear_errors(
    graph_api: GraphApi, project_key: str, variables: dict[str, Any], message: str
) -> None:
    result = await graph_api.query(TRACES_QUERY, variables, api_key=project_key)
    assert result["data"] is None or result["data"]["project"] is None
    assert result["errors"][0]["message"] == message
    assert result["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


async def test_cursor_of_another_sort_is_refused(graph_api: GraphApi, project_key: str) -> None:
    first = await graph_api.query(TRACES_QUERY, {"first": 1}, api_key=project_key)
    cursor = first["data"]["project"]["traces"]["pageInfo"]["endCursor"]
    result = await graph_api.query(
        TRACES_QUERY, {"first": 1, "after": cursor, "sort": {"field": "COST"}}, api_key=project_key
    )
    assert "keep the sort while paging" in result["errors"][0]["message"]


@pytest.mark.parametrize("field", ["START_TIME", "DURATION", "COST", "TOKENS"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_span_pages_in_every_sort_walk_each_span_once(
    graph_api: GraphApi, project_key: str, field: str, direction: str
) -> None:
    query = """query ($sort: SortInput, $after: String) { project {
        spans(sort: $sort, first: 3, after: $after) {
            nodes { spanId durationMs cost totalTokens startTime }
            pageInfo { hasNextPage endCursor } } } }"""
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        result = await graph_api.query(
            query, {"sort": {"field": field, "direction": direction}, "after": after}, project_key
        )
        assert "errors" not in result, result
        page = result["data"]["project"]["spans"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len({s["spanId"] for s in seen}) == len(seen) == 8
    key = {
        "START_TIME": "startTime",
        "DURATION": "durationMs",
        "COST": "cost",
        "TOKENS": "totalTokens",
    }[field]
    values = [s[key] if s[key] is not None else (-1 if field == "DURATION" else 0) for s in seen]
    assert values == sorted(values, reverse=direction == "DESC")


async def test_project_counts_sessions_and_users(graph_api: GraphApi, project_key: str) -> None:
    result = await graph_api.query(
        """{ project { traceCount spanCount errorTraceCount lastTraceAt
            sessions { id traceCount firstSeen lastSeen }
            users { id traceCount errorCount totalTokens cost } } }""",
        api_key=project_key,
    )
    project = result["data"]["project"]
    assert (project["traceCount"], project["spanCount"], project["errorTraceCount"]) == (5, 8, 1)
    assert project["lastTraceAt"].startswith("2026-03-01T14:00:00")
    assert [(s["id"], s["traceCount"]) for s in project["sessions"]] == [("s2", 1), ("s1", 1)]
    users = {u["id"]: u for u in project["users"]}
    assert (users["alice"]["traceCount"], users["alice"]["totalTokens"]) == (2, 1215)
    assert users["alice"]["cost"] == pytest.approx(0.51)
    assert (users["bob"]["traceCount"], users["bob"]["errorCount"]) == (1, 1)
