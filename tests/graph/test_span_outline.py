"""Trace.spanOutline: every span in outline as one JSON value, the same values and order
as Trace.spans gives them, for the dashboard's large traces."""

from __future__ import annotations

from datetime import UTC, datetime

from graphql import parse

from graph.query_cost import operation_cost
from graph.schema import schema
from graph.types.SpanOutline import OUTLINE_COLUMNS
from tests.graph.conftest import GraphApi
from tests.graph.seeding import TraceBuilder, store

QUERY = (
    "query ($traceId: String!) { project { trace(traceId: $traceId) { spanOutline spans { "
    + " ".join(OUTLINE_COLUMNS)
    + " } } } }"
)


async def test_the_outline_is_the_spans_fields_as_rows_in_tree_order(graph_api: GraphApi) -> None:
    trace = TraceBuilder(datetime(2026, 1, 2, 9, tzinfo=UTC))
    root = trace.span("agent", kind="AGENT", duration_ms=900)
    tool = trace.span("search", parent=root, kind="TOOL", offset_ms=300, status="ERROR")
    trace.span("retrieve", parent=tool, kind="RETRIEVER", offset_ms=301, duration_ms=None)
    trace.span(
        "chat",
        parent=root,
        kind="LLM",
        offset_ms=10,
        model="gpt-4o",
        input_tokens=30,
        output_tokens=12,
        cost=0.002,
    )
    trace.span("late child", parent="00000000000000aa", offset_ms=50)  # parent never arrives
    await store(graph_api.engine, graph_api.project_id, trace)

    got = (await graph_api.data(QUERY, {"traceId": trace.trace_id}))["project"]["trace"]
    outline = got["spanOutline"]
    assert outline["columns"] == list(OUTLINE_COLUMNS)
    as_objects = [dict(zip(outline["columns"], row, strict=True)) for row in outline["rows"]]
    assert as_objects == got["spans"]
    assert [(s["name"], s["depth"]) for s in as_objects] == [
        ("agent", 0),
        ("chat", 1),
        ("search", 1),
        ("retrieve", 2),
        ("late child", 0),
    ]
    running = as_objects[3]
    assert (running["endTime"], running["durationMs"]) == (None, None)
    assert (as_objects[1]["model"], as_objects[1]["cost"]) == ("gpt-4o", 0.002)
    assert as_objects[2]["status"] == "ERROR"


async def test_a_missing_trace_has_no_outline_and_the_field_costs_one(graph_api: GraphApi) -> None:
    data = await graph_api.data(QUERY, {"traceId": "0" * 31 + "1"})
    assert data["project"]["trace"] is None
    document = parse("query ($t: String!) { project { trace(traceId: $t) { spanOutline } } }")
    assert operation_cost(schema._schema, document, None) == 3
