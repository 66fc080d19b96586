"""A trace as the dashboard reads it: the tree, the flat tree order with depths, nodes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

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


@pytest.mark.parametrize("field", ["node(id: $id) { id }", "nodes(ids: [$id]) { id }"])
@pytest.mark.parametrize("type_name", ["Query", "Nope", "TraceGroup"])
async def test_global_id_of_a_type_without_ids_is_an_invalid_argument(
    graph_api: GraphApi, field: str, type_name: str
) -> None:
    global_id = base64.b64encode(f"{type_name}:abc".encode()).decode()
    result = await graph_api.query(f"query ($id: ID!) {{ {field} }}", {"id": global_id})
    [error] = result["errors"]
    assert error["message"] == (
        f"id {global_id!r} is not the id of an object: {type_name!r} is not a type with ids"
    )
    assert error["extensions"]["code"] == "INVALID_ARGUMENT"


async def test_global_id_that_is_not_base64_names_the_value(graph_api: GraphApi) -> None:
    result = await graph_api.query("query ($id: ID!) { node(id: $id) { id } }", {"id": "!!!"})
    assert result["errors"][0]["message"] == 'Value cannot represent a GlobalID: "!!!".'


CYCLE_QUERY = """
query ($traceId: String!) {
  project {
    trace(traceId: $traceId) {
      spanCount
      rootSpans { name descendants { name depth } }
      spans { name depth }
      spanTree { span { name } children { span { name } children { span { name } } } }
    }
  }
}
"""


async def test_spans_in_a_parent_cycle_are_shown_as_roots(graph_api: GraphApi) -> None:
    """Ingest accepts a span that is its own parent, or A -> B -> A: each still shows up
    once, as a root (by start time) after the tree from the real roots, its subtree under
    it, and the tree views agree."""
    trace = TraceBuilder(datetime(2026, 1, 2, 12, tzinfo=UTC))
    root = trace.span("agent", duration_ms=1000)
    trace.span("step", parent=root, offset_ms=10)
    itself = trace.span("itself", offset_ms=20)
    trace.records[-1]["parent_span_id"] = itself
    a = trace.span("a", offset_ms=30)
    b = trace.span("b", parent=a, offset_ms=40)
    trace.records[-2]["parent_span_id"] = b
    trace.span("under b", parent=b, offset_ms=50)
    await store(graph_api.engine, graph_api.project_id, trace)

    data = await graph_api.data(CYCLE_QUERY, {"traceId": trace.trace_id})
    got = data["project"]["trace"]
    assert [(s["name"], s["depth"]) for s in got["spans"]] == [
        ("agent", 0),
        ("step", 1),
        ("itself", 0),
        ("a", 0),
        ("b", 1),
        ("under b", 2),
    ]
    assert got["spanCount"] == len(got["spans"])
    assert [r["name"] for r in got["rootSpans"]] == ["agent", "itself", "a"]
    assert [[(d["name"], d["depth"]) for d in r["descendants"]] for r in got["rootSpans"]] == [
        [("step", 1)],
        [],
        [("b", 1), ("under b", 2)],
    ]
    assert got["spanTree"] == [
        {"span": {"name": "agent"}, "children": [{"span": {"name": "step"}, "children": []}]},
        {"span": {"name": "itself"}, "children": []},
        {
            "span": {"name": "a"},
            "children": [
                {"span": {"name": "b"}, "children": [{"span": {"name": "under b"}}]},
            ],
        },
    ]

    response = await graph_api.http.get(
        f"/api/v1/traces/{trace.trace_id}",
        headers={"Authorization": f"Bearer {graph_api.api_key}"},
    )
    assert response.status_code == 200, response.text
    assert [(s["name"], s["depth"]) for s in response.json()["spans"]] == [
        (s["name"], s["depth"]) for s in got["spans"]
    ]
