"""A trace as the dashboard reads it: the tree, the flat tree order with depths, nodes."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.graph.conftest import GraphApi
from tests.graph.seeding import TraceBuilder, store

TRACE_QUERY = """
query ($traceId: String!) {
  project {
    trace(traceId: $traceId) {
      id traceId name status spanCount errorCount totalTokens cost durationMs
      rootSpans { name }
      spans { name depth kind parentSpanId }
      spanTree { span { name } children { span { name } children { span { name } } } }
    }
  }
}
"""


async def _agent_trace(api: GraphApi) -> TraceBuilder:
    trace = TraceBuilder(datetime(2026, 1, 1, 12, tzinfo=UTC), user_id="u1", session_id="s1")
    root = trace.span("agent", kind="AGENT", duration_ms=1000)
    plan = trace.span("plan", parent=root, kind="CHAIN", offset_ms=10, duration_ms=300)
    trace.span(
        "chat gpt-4o",
        parent=plan,
        kind="LLM",
        offset_ms=20,
        model="gpt-4o",
        input_tokens=100,
        output_tokens=20,
        cost=0.01,
    )
    trace.span("search", parent=root, kind="TOOL", offset_ms=400, status="ERROR")
    await store(api.engine, api.project_id, trace)
    return trace


async def test_trace_reads_as_a_tree_in_depth_first_order(graph_api: GraphApi) -> None:
    trace = await _agent_trace(graph_api)
    data = await graph_api.data(TRACE_QUERY, {"traceId": trace.trace_id})
    got = data["project"]["trace"]
    assert got["traceId"] == trace.trace_id
    assert (got["name"], got["status"], got["spanCount"], got["errorCount"]) == (
        "agent",
        "ERROR",
        4,
        1,
    )
    assert (got["totalTokens"], got["cost"], got["durationMs"]) == (120, 0.01, 1000.0)
    assert [s["name"] for s in got["rootSpans"]] == ["agent"]
    assert [(s["name"], s["depth"]) for s in got["spans"]] == [
        ("agent", 0),
        ("plan", 1),
        ("chat gpt-4o", 2),
        ("search", 1),
    ]
    tree = got["spanTree"][0]
    assert tree["span"]["name"] == "agent"
    assert [c["span"]["name"] for c in tree["children"]] == ["plan", "search"]
    assert tree["children"][0]["children"][0]["span"]["name"] == "chat gpt-4o"


async def test_span_relations_parent_children_descendants_and_trace(graph_api: GraphApi) -> None:
    trace = await _agent_trace(graph_api)
    data = await graph_api.data(
        """query ($t: String!) { project { trace(traceId: $t) { rootSpans {
            children { name parent { name } trace { traceId } }
            descendants(maxDepth: 2) { name depth }
            shallow: descendants(maxDepth: 1) { name }
        } } } }""",
        {"t": trace.trace_id},
    )
    root = data["project"]["trace"]["rootSpans"][0]
    assert [c["name"] for c in root["children"]] == ["plan", "search"]
    assert {c["parent"]["name"] for c in root["children"]} == {"agent"}
    assert {c["trace"]["traceId"] for c in root["children"]} == {trace.trace_id}
    assert [(d["name"], d["depth"]) for d in root["descendants"]] == [
        ("plan", 1),
        ("chat gpt-4o", 2),
        ("search", 1),
    ]
    assert [d["name"] for d in root["shallow"]] == ["plan", "search"]


async def test_node_finds_traces_spans_and_projects_by_global_id(graph_api: GraphApi) -> None:
    trace = await _agent_trace(graph_api)
    data = await graph_api.data(
        "query ($t: String!) { project { id trace(traceId: $t) { id spans { id name } } } }",
        {"t": trace.trace_id},
    )
    project = data["project"]
    ids = [project["id"], project["trace"]["id"], project["trace"]["spans"][0]["id"]]
    found = await graph_api.data(
        """query ($ids: [ID!]!) { nodes(ids: $ids) { __typename
            ... on Project { name } ... on Trace { traceId } ... on Span { name } } }""",
        {"ids": ids},
    )
    assert found["nodes"] == [
        {"__typename": "Project", "name": "graph-tests"},
        {"__typename": "Trace", "traceId": trace.trace_id},
        {"__typename": "Span", "name": "agent"},
    ]


async def test_another_projects_trace_looks_missing(
    graph_api: GraphApi, other_project: tuple[object, str]
) -> None:
    trace = await _agent_trace(graph_api)
    data = await graph_api.data(
        "query ($t: String!) { project { trace(traceId: $t) { id } } }", {"t": trace.trace_id}
    )
    global_id = data["project"]["trace"]["id"]
    _, other_key = other_project
    as_other = await graph_api.query(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": global_id}, api_key=other_key
    )
    assert as_other == {"data": {"node": None}}
    missing = await graph_api.query(
        'query { project { trace(traceId: "0123456789abcdef0123456789abcdef") { id } } }',
        api_key=other_key,
    )
    assert missing == {"data": {"project": {"trace": None}}}


async def test_another_projects_id_is_not_found_by_project(
    graph_api: GraphApi, other_project: tuple[object, str]
) -> None:
    mine = await graph_api.data("{ project { id name } }")
    _, other_key = other_project
    assert await graph_api.query(
        "query ($id: ID!) { project(id: $id) { name } }", {"id": mine["project"]["id"]}, other_key
    ) == {"data": {"project": None}}
    assert await graph_api.data(
        "query ($id: ID!) { project(id: $id) { name } }", {"id": mine["project"]["id"]}
    ) == {"project": {"name": "graph-tests"}}
