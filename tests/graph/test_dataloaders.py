"""The nested query the dashboard and integrators send must not turn into N+1 SQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from storage.projects import ALL_SCOPES, create_project
from tests.graph.conftest import GraphApi
from tests.graph.seeding import TraceBuilder, store

NESTED = """
query ($first: Int!) {
  project {
    name traceCount
    traces(first: $first) {
      edges { node {
        traceId project { name }
        spans { name depth children { name parent { name } } }
        rootSpans { trace { traceId } }
      } }
    }
  }
}
"""


async def _project_with_traces(api: GraphApi, count: int) -> str:
    project = await create_project(api.engine, f"nplus1-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    start = datetime(2026, 2, 1, tzinfo=UTC)
    traces = []
    for n in range(count):
        trace = TraceBuilder(start + timedelta(seconds=n))
        root = trace.span("agent", kind="AGENT", duration_ms=100)
        llm = trace.span("llm", parent=root, kind="LLM", offset_ms=1)
        trace.span("tool", parent=llm, kind="TOOL", offset_ms=2)
        traces.append(trace)
    await store(api.engine, project.id, *traces)
    return project.api_key


async def _statements_for(api: GraphApi, traces: int) -> int:
    key = await _project_with_traces(api, traces)
    api.statements.clear()
    result = await api.query(NESTED, {"first": traces}, api_key=key)
    assert "errors" not in result, result
    edges = result["data"]["project"]["traces"]["edges"]
    assert len(edges) == traces
    assert all(len(e["node"]["spans"]) == 3 for e in edges)
    return len([s for s in api.statements if s.lstrip().upper().startswith("SELECT")])


async def test_nested_query_statement_count_does_not_grow_with_traces(graph_api: GraphApi) -> None:
    five = await _statements_for(graph_api, 5)
    fifty = await _statements_for(graph_api, 50)
    assert five == fifty, (five, fifty)
    # key, project, stats, trace page, spans, children, parents, traces by id: one each
    assert fifty <= 8
