"""Annotations through real GraphQL: writing them on traces and spans, reading them back,
filtering traces and spans by them, bad input, isolation, and no N+1 when listing them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from strawberry.relay import to_base64

from storage.projects import ALL_SCOPES, DEFAULT_SCOPES, create_project
from tests.graph.conftest import GraphApi
from tests.graph.seeding import TraceBuilder, store
from tests.graph.test_mutations import error_of

ANNOTATE_TRACE = """mutation ($t: ID!, $input: AnnotationInput!) {
    annotateTrace(traceId: $t, input: $input) {
        id name score label comment source createdAt updatedAt
        trace { traceId } span { name } } }"""
ANNOTATE_SPAN = """mutation ($s: ID!, $input: AnnotationInput!) {
    annotateSpan(spanId: $s, input: $input) { id name score label source
        trace { traceId } span { name } } }"""


class Seeded:
    def __init__(self, trace: TraceBuilder, found: dict[str, Any]) -> None:
        self.trace = trace
        self.trace_id: str = found["id"]
        self.span_ids: dict[str, str] = {s["name"]: s["id"] for s in found["spans"]}


async def _seed(api: GraphApi, start: datetime | None = None) -> Seeded:
    trace = TraceBuilder(start or datetime(2026, 4, 1, tzinfo=UTC))
    root = trace.span("agent", kind="AGENT", duration_ms=100)
    trace.span("llm", parent=root, kind="LLM", offset_ms=1)
    await store(api.engine, api.project_id, trace)
    data = await api.data(
        "query ($t: String!) { project { trace(traceId: $t) { id spans { id name } } } }",
        {"t": trace.trace_id},
    )
    return Seeded(trace, data["project"]["trace"])


async def _annotate_trace(api: GraphApi, trace_id: str, **values: Any) -> dict[str, Any]:
    data = await api.data(ANNOTATE_TRACE, {"t": trace_id, "input": values})
    annotation: dict[str, Any] = data["annotateTrace"]
    return annotation


async def test_annotations_on_a_trace_and_its_spans_read_back(graph_api: GraphApi) -> None:
    seeded = await _seed(graph_api)
    on_trace = await _annotate_trace(
        graph_api, seeded.trace_id, name=" correctness ", score=0.8, comment="mostly right"
    )
    assert on_trace["name"] == "correctness"
    assert (on_trace["score"], on_trace["label"], on_trace["source"]) == (0.8, None, "HUMAN")
    assert on_trace["trace"] == {"traceId": seeded.trace.trace_id}
    assert on_trace["span"] is None
    assert on_trace["createdAt"] == on_trace["updatedAt"]

    on_span = await graph_api.data(
        ANNOTATE_SPAN,
        {
            "s": seeded.span_ids["llm"],
            "input": {"name": "hallucination", "label": "yes", "source": "LLM"},
        },
    )
    assert on_span["annotateSpan"]["span"] == {"name": "llm"}
    assert on_span["annotateSpan"]["source"] == "LLM"

    read = await graph_api.data(
        """query ($t: String!) { project { trace(traceId: $t) {
            annotations { id name score }
            spans { name annotations { name label span { name } } } } } }""",
        {"t": seeded.trace.trace_id},
    )
    trace = read["project"]["trace"]
    assert trace["annotations"] == [{"id": on_trace["id"], "name": "correctness", "score": 0.8}]
    assert {s["name"]: s["annotations"] for s in trace["spans"]} == {
        "agent": [],
        "llm": [{"name": "hallucination", "label": "yes", "span": {"name": "llm"}}],
    }
    node = await graph_api.data(
        "query ($id: ID!) { node(id: $id) { ... on Annotation { name comment } } }",
        {"id": on_trace["id"]},
    )
    assert node == {"node": {"name": "correctness", "comment": "mostly right"}}


async def test_update_replaces_values_and_delete_removes(graph_api: GraphApi) -> None:
    seeded = await _seed(graph_api)
    created = await _annotate_trace(graph_api, seeded.trace_id, name="tone", score=1)
    updated = await graph_api.data(
        """mutation ($id: ID!) { updateAnnotation(id: $id,
            input: {name: "tone", label: "rude", source: CODE}) {
            id score label source createdAt updatedAt } }""",
        {"id": created["id"]},
    )
    got = updated["updateAnnotation"]
    assert (got["id"], got["score"], got["label"], got["source"]) == (
        created["id"],
        None,
        "rude",
        "CODE",
    )
    assert got["updatedAt"] > got["createdAt"]

    deleted = await graph_api.data(
        "mutation ($id: ID!) { deleteAnnotation(id: $id) }", {"id": created["id"]}
    )
    assert deleted == {"deleteAnnotation": created["id"]}
    again = await graph_api.query(
        "mutation ($id: ID!) { deleteAnnotation(id: $id) }", {"id": created["id"]}
    )
    assert error_of(again) == ("no such annotation", "NOT_FOUND")
    read = await graph_api.data(
        "query ($id: ID!) { node(id: $id) { ... on Trace { annotations { id } } } }",
        {"id": seeded.trace_id},
    )
    assert read == {"node": {"annotations": []}}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "", "score": 1}, "name must not be empty"),
        ({"name": "x" * 201, "score": 1}, "name is longer than 200 characters (201)"),
        ({"name": "q"}, "an annotation needs at least one of score, label or comment"),
        (
            {"name": "q", "comment": "c" * 10_001},
            "comment is longer than 10,000 characters (10,001)",
        ),
        ({"name": "q", "label": "a\x00b"}, "label must not contain the NUL character"),
    ],
)
async def test_bad_annotation_input_names_the_field(
    graph_api: GraphApi, values: dict[str, Any], message: str
) -> None:
    seeded = await _seed(graph_api)
    result = await graph_api.query(ANNOTATE_TRACE, {"t": seeded.trace_id, "input": values})
    assert error_of(result) == (message, "INVALID_ARGUMENT")


async def test_a_score_too_large_for_a_float_is_refused(graph_api: GraphApi) -> None:
    seeded = await _seed(graph_api)
    result = await graph_api.query(
        """mutation ($t: ID!) {
            annotateTrace(traceId: $t, input: {name: "q", score: 1e999}) { id } }""",
        {"t": seeded.trace_id},
    )
    assert error_of(result) == ("score must be a finite number, got inf", "INVALID_ARGUMENT")


async def test_another_projects_trace_and_span_look_missing(graph_api: GraphApi) -> None:
    seeded = await _seed(graph_api)
    other = await create_project(graph_api.engine, f"annotator-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    values = {"name": "q", "score": 1}
    as_other = await graph_api.query(
        ANNOTATE_TRACE, {"t": seeded.trace_id, "input": values}, api_key=other.api_key
    )
    missing = await graph_api.query(
        ANNOTATE_TRACE,
        {"t": to_base64("Trace", f"{other.id}:{'ab' * 16}"), "input": values},
        api_key=other.api_key,
    )
    assert error_of(as_other) == error_of(missing) == ("no such trace", "NOT_FOUND")
    span = await graph_api.query(
        ANNOTATE_SPAN, {"s": seeded.span_ids["llm"], "input": values}, api_key=other.api_key
    )
    assert error_of(span) == ("no such span", "NOT_FOUND")

    mine = await _annotate_trace(graph_api, seeded.trace_id, name="q", score=1)
    for mutation in (
        'mutation ($id: ID!) { updateAnnotation(id: $id, input: {name: "q", score: 0}) { id } }',
        "mutation ($id: ID!) { deleteAnnotation(id: $id) }",
    ):
        result = await graph_api.query(mutation, {"id": mine["id"]}, api_key=other.api_key)
        assert error_of(result) == ("no such annotation", "NOT_FOUND")
    hidden = await graph_api.query(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": mine["id"]}, api_key=other.api_key
    )
    assert hidden == {"data": {"node": None}}


async def test_read_only_key_may_read_annotations_but_not_write_them(graph_api: GraphApi) -> None:
    reader = await create_project(
        graph_api.engine, f"reader-{uuid.uuid4().hex[:8]}", DEFAULT_SCOPES
    )
    trace = TraceBuilder(datetime(2026, 4, 2, tzinfo=UTC))
    trace.span("agent")
    await store(graph_api.engine, reader.id, trace)
    found = await graph_api.query(
        "query ($t: String!) { project { trace(traceId: $t) { id annotations { id } } } }",
        {"t": trace.trace_id},
        api_key=reader.api_key,
    )
    assert found["data"]["project"]["trace"]["annotations"] == []
    result = await graph_api.query(
        ANNOTATE_TRACE,
        {"t": found["data"]["project"]["trace"]["id"], "input": {"name": "q", "score": 1}},
        api_key=reader.api_key,
    )
    assert error_of(result) == ("this API key lacks the permission 'annotate'", "FORBIDDEN")


TRACES_WHERE = """query ($f: TraceFilter!) { project { traces(filter: $f, first: 200) {
    nodes { traceId } } } }"""
SPANS_WHERE = """query ($f: SpanFilter!) { project { spans(filter: $f, first: 200) {
    nodes { traceId name } } } }"""


async def test_traces_and_spans_filter_by_annotation(graph_api: GraphApi) -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    good, bad, judged = [await _seed(graph_api, start + timedelta(minutes=n)) for n in range(3)]
    await _annotate_trace(graph_api, good.trace_id, name="filter-quality", score=0.9)
    await _annotate_trace(graph_api, bad.trace_id, name="filter-quality", score=0.2, label="poor")
    await graph_api.data(
        ANNOTATE_SPAN,
        {
            "s": judged.span_ids["llm"],
            "input": {"name": "filter-halluc", "label": "yes", "source": "LLM"},
        },
    )

    async def traces(*conditions: dict[str, Any]) -> set[str]:
        data = await graph_api.data(TRACES_WHERE, {"f": {"annotations": list(conditions)}})
        return {n["traceId"] for n in data["project"]["traces"]["nodes"]}

    assert await traces({"name": "filter-quality"}) == {good.trace.trace_id, bad.trace.trace_id}
    assert await traces({"name": "filter-quality", "score": {"min": 0.5}}) == {good.trace.trace_id}
    assert await traces({"name": "filter-quality", "score": {"max": 0.5}, "label": ["poor"]}) == {
        bad.trace.trace_id
    }
    assert await traces({"name": "filter-quality", "label": ["great"]}) == set()
    # A span's annotation counts for its trace.
    assert await traces({"name": "filter-halluc", "source": ["LLM"]}) == {judged.trace.trace_id}
    assert await traces({"name": "filter-halluc", "source": ["HUMAN"]}) == set()
    # Each condition must hold.
    assert await traces({"name": "filter-quality"}, {"name": "filter-halluc"}) == set()

    spans = await graph_api.data(SPANS_WHERE, {"f": {"annotations": [{"name": "filter-halluc"}]}})
    assert spans["project"]["spans"]["nodes"] == [{"traceId": judged.trace.trace_id, "name": "llm"}]
    # A trace's annotation is not its spans'.
    on_trace_only = await graph_api.data(
        SPANS_WHERE, {"f": {"annotations": [{"name": "filter-quality"}]}}
    )
    assert on_trace_only["project"]["spans"]["nodes"] == []

    bad_range = await graph_api.query(
        TRACES_WHERE, {"f": {"annotations": [{"name": "q", "score": {"min": 2, "max": 1}}]}}
    )
    assert error_of(bad_range) == ("range min must not be greater than its max", "INVALID_ARGUMENT")


LIST = """query ($first: Int!) { project { traces(first: $first) { nodes {
    id spans { id } } } } }"""
NESTED = """query ($first: Int!) { project { traces(first: $first) { nodes {
    annotations { name score }
    spans { annotations { name label } }
} } } }"""


async def _statements_for(api: GraphApi, traces: int) -> tuple[int, int]:
    """(SELECTs in all, SELECTs reading annotations) for the nested query over ``traces``."""
    project = await create_project(api.engine, f"nplus1-ann-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    builders = []
    for n in range(traces):
        trace = TraceBuilder(start + timedelta(seconds=n))
        root = trace.span("agent", kind="AGENT", duration_ms=100)
        trace.span("llm", parent=root, kind="LLM", offset_ms=1)
        builders.append(trace)
    await store(api.engine, project.id, *builders)
    listed = await api.query(LIST, {"first": traces}, api_key=project.api_key)
    for node in listed["data"]["project"]["traces"]["nodes"]:
        await api.query(
            ANNOTATE_TRACE,
            {"t": node["id"], "input": {"name": "q", "score": 1}},
            api_key=project.api_key,
        )
        await api.query(
            ANNOTATE_SPAN,
            {"s": node["spans"][1]["id"], "input": {"name": "h", "label": "no"}},
            api_key=project.api_key,
        )
    api.statements.clear()
    result = await api.query(NESTED, {"first": traces}, api_key=project.api_key)
    assert "errors" not in result, result
    nodes = result["data"]["project"]["traces"]["nodes"]
    assert len(nodes) == traces
    assert all(n["annotations"] == [{"name": "q", "score": 1.0}] for n in nodes)
    assert all(
        [s["annotations"] for s in n["spans"]] == [[], [{"name": "h", "label": "no"}]]
        for n in nodes
    )
    selects = [s for s in api.statements if s.lstrip().upper().startswith("SELECT")]
    return len(selects), len([s for s in selects if "FROM annotations" in s])


async def test_annotations_load_with_one_statement_per_level(graph_api: GraphApi) -> None:
    five, five_annotation_reads = await _statements_for(graph_api, 5)
    fifty, fifty_annotation_reads = await _statements_for(graph_api, 50)
    assert five == fifty, (five, fifty)
    assert five_annotation_reads == fifty_annotation_reads == 2  # traces' and spans'
