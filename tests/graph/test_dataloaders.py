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


PAYLOADS = """
query ($first: Int!) {
  project { traces(first: $first) { nodes {
    spans { name input output attributes events error metadata }
  } } }
}
"""


async def test_span_payloads_load_in_one_batch_and_are_complete(graph_api: GraphApi) -> None:
    counts = []
    for traces in (5, 50):
        project = await create_project(
            graph_api.engine, f"payload-{uuid.uuid4().hex[:8]}", ALL_SCOPES
        )
        batch = []
        for n in range(traces):
            trace = TraceBuilder(datetime(2026, 2, 2, tzinfo=UTC) + timedelta(seconds=n))
            trace.span(
                "llm",
                kind="LLM",
                input=[{"role": "user", "content": f"question {n}"}],
                output={"role": "assistant", "content": "answer"},
                attributes={"llm.model_name": "gpt-4o"},
                events=[{"name": "retry", "attributes": {}}],
                error={"type": "Timeout", "message": "slow", "stack": None},
                metadata={"n": n},
            )
            batch.append(trace)
        await store(graph_api.engine, project.id, *batch)
        graph_api.statements.clear()
        result = await graph_api.query(PAYLOADS, {"first": traces}, api_key=project.api_key)
        assert "errors" not in result, result
        spans = [node["spans"][0] for node in result["data"]["project"]["traces"]["nodes"]]
        assert {s["input"][0]["content"] for s in spans} == {f"question {n}" for n in range(traces)}
        assert all(s["output"] == {"role": "assistant", "content": "answer"} for s in spans)
        assert all(s["attributes"]["llm.model_name"] == "gpt-4o" for s in spans)
        assert all(s["events"][0]["name"] == "retry" for s in spans)
        assert all(s["error"]["type"] == "Timeout" for s in spans)
        assert {s["metadata"]["n"] for s in spans} == set(range(traces))
        counts.append(
            len([s for s in graph_api.statements if s.lstrip().upper().startswith("SELECT")])
        )
    assert counts[0] == counts[1]
