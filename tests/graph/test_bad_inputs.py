"""Inputs PostgreSQL or Python cannot take (NUL characters, forged cursors, instants
outside 1970 to 9000 in UTC) are the client's INVALID_ARGUMENT, naming the
problem, before any of them reaches the database: never "Unexpected error."."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from tests.graph.conftest import GraphApi

TRACES = """query ($filter: TraceFilter, $sort: SortInput, $after: String) { project {
    traces(filter: $filter, sort: $sort, first: 5, after: $after) { nodes { name } } } }"""
SPANS = """query ($filter: SpanFilter, $sort: SortInput, $after: String) { project {
    spans(filter: $filter, sort: $sort, first: 5, after: $after) { nodes { name } } } }"""
ANALYTICS = """query ($r: TimeRangeInput!) { project { analytics(timeRange: $r) {
    totals { spanCount } } } }"""
SESSIONS = """query ($r: TimeRangeInput) { project { sessions(timeRange: $r) { id } } }"""

NUL = "a\u0000b"
NUL_MESSAGE = "filter values may not contain NUL characters (\\u0000)"


async def _refused(api: GraphApi, query: str, variables: dict[str, Any]) -> str:
    """The message of the INVALID_ARGUMENT error the query must get."""
    result = await api.query(query, variables)
    assert result["data"] is None or result["data"]["project"] is None, result
    [error] = result["errors"]
    assert error["extensions"]["code"] == "INVALID_ARGUMENT", error
    message: str = error["message"]
    return message


NUL_FILTERS = [
    {"name": {"equals": NUL}},
    {"name": {"contains": NUL}},
    {"tagsAny": ["ok", NUL]},
    {"tagsAll": [NUL]},
    {"model": [NUL]},
    {"userId": [NUL]},
    {"sessionId": [NUL]},
    {"environment": [NUL]},
    {"metadata": [{"key": NUL, "value": "v"}]},
    {"metadata": [{"key": "k", "value": NUL}]},
    {"attributes": [{"key": NUL, "value": "v"}]},
    {"attributes": [{"key": "k", "value": NUL}]},
    {"annotations": [{"name": NUL}]},
    {"annotations": [{"name": "quality", "label": [NUL]}]},
]


@pytest.mark.parametrize("query", [TRACES, SPANS], ids=["traces", "spans"])
@pytest.mark.parametrize("nul_filter", NUL_FILTERS)
async def test_nul_in_any_filter_string_is_refused(
    graph_api: GraphApi, query: str, nul_filter: dict[str, Any]
) -> None:
    assert await _refused(graph_api, query, {"filter": nul_filter}) == NUL_MESSAGE


async def test_nul_in_an_analytics_filter_is_refused(graph_api: GraphApi) -> None:
    query = """query ($r: TimeRangeInput!, $f: SpanFilter) { project {
        analytics(timeRange: $r, filter: $f) { totals { spanCount } } } }"""
    variables = {
        "r": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"},
        "f": {"model": [NUL]},
    }
    assert await _refused(graph_api, query, variables) == NUL_MESSAGE


def _cursor(*payload: Any) -> str:
    # json, not orjson: it writes integers past 64 bits, as a forger could.
    return base64.urlsafe_b64encode(json.dumps(list(payload)).encode()).decode().rstrip("=")


A_TIME = "2026-01-01T00:00:00+00:00"
A_UUID = str(uuid.uuid4())
TIME_DESC = {"field": "START_TIME", "direction": "DESC"}
COST_ASC = {"field": "COST", "direction": "ASC"}

FORGED_TRACE_CURSORS = [
    (TIME_DESC, _cursor("START_TIME:DESC", A_TIME, "not-a-uuid")),
    (TIME_DESC, _cursor("START_TIME:DESC", A_TIME, 12)),
    (TIME_DESC, _cursor("START_TIME:DESC", A_TIME, None)),
    (TIME_DESC, _cursor("START_TIME:DESC", "yesterday", A_UUID)),
    (TIME_DESC, _cursor("START_TIME:DESC", 1767225600, A_UUID)),
    (TIME_DESC, _cursor("START_TIME:DESC", "2026-01-01T00:00:00", A_UUID)),
    (TIME_DESC, _cursor("START_TIME:DESC", "0001-01-01T00:00:00+05:00", A_UUID)),
    (TIME_DESC, _cursor("START_TIME:DESC", "9999-12-31T23:59:00-05:00", A_UUID)),
    (COST_ASC, _cursor("COST:ASC", True, A_UUID)),
    (COST_ASC, _cursor("COST:ASC", "0.5", A_UUID)),
    (COST_ASC, _cursor("COST:ASC", None, A_UUID)),
    (TIME_DESC, base64.urlsafe_b64encode(b'{"START_TIME:DESC": 1}').decode()),
    (TIME_DESC, base64.urlsafe_b64encode(b'"START_TIME:DESC"').decode()),
    (TIME_DESC, base64.urlsafe_b64encode(b"[]").decode()),
]


@pytest.mark.parametrize(("sort", "cursor"), FORGED_TRACE_CURSORS)
async def test_forged_trace_cursor_is_refused(
    graph_api: GraphApi, sort: dict[str, str], cursor: str
) -> None:
    message = await _refused(graph_api, TRACES, {"sort": sort, "after": cursor})
    assert message == "cursor is not one this API returned"


FORGED_SPAN_KEYS = [
    [A_UUID, 2**63],
    [A_UUID, -(2**63) - 1],
    [A_UUID, True],
    [A_UUID, "12"],
    [A_UUID, 1.5],
    [A_UUID, 2**64],  # JSON numbers this large decode as floats
    ["zz", 1],
]


@pytest.mark.parametrize("key", FORGED_SPAN_KEYS)
async def test_forged_span_cursor_is_refused(graph_api: GraphApi, key: list[Any]) -> None:
    cursor = _cursor("START_TIME:DESC", A_TIME, *key)
    message = await _refused(graph_api, SPANS, {"sort": TIME_DESC, "after": cursor})
    assert message == "cursor is not one this API returned"


async def test_span_cursor_at_the_ends_of_bigint_is_accepted(graph_api: GraphApi) -> None:
    for span_id in (2**63 - 1, -(2**63)):
        cursor = _cursor("START_TIME:DESC", A_TIME, A_UUID, span_id)
        result = await graph_api.query(SPANS, {"sort": TIME_DESC, "after": cursor})
        assert "errors" not in result, result


async def test_cursor_with_a_missing_key_belongs_to_another_list(graph_api: GraphApi) -> None:
    cursor = _cursor("START_TIME:DESC", A_TIME, A_UUID)
    message = await _refused(graph_api, SPANS, {"sort": TIME_DESC, "after": cursor})
    assert message == "cursor belongs to another list"


OUT_OF_RANGE = [
    ("start", "0001-01-01T00:00:00+05:00"),  # not even representable in UTC
    ("end", "9999-12-31T23:59:00-05:00"),
    ("start", "1969-12-31T23:59:59Z"),  # before any span can start
    ("end", "9000-01-01T00:00:01Z"),  # no room for a bucket after it
]


@pytest.mark.parametrize(("bound", "instant"), OUT_OF_RANGE)
@pytest.mark.parametrize("field", ["traces", "spans", "analytics", "sessions"])
async def test_time_range_bound_outside_1970_to_9000_is_refused(
    graph_api: GraphApi, field: str, bound: str, instant: str
) -> None:
    time_range = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"} | {bound: instant}
    query, variables = {
        "traces": (TRACES, {"filter": {"timeRange": time_range}}),
        "spans": (SPANS, {"filter": {"timeRange": time_range}}),
        "analytics": (ANALYTICS, {"r": time_range}),
        "sessions": (SESSIONS, {"r": time_range}),
    }[field]
    message = await _refused(graph_api, query, variables)
    assert message.startswith(f"time range {bound} ")
    assert "out of range: it must fall between 1970-01-01 and 9000-01-01" in message


async def test_time_range_bound_without_a_time_zone_is_refused(graph_api: GraphApi) -> None:
    time_range = {"start": "2026-01-01T00:00:00"}
    message = await _refused(graph_api, TRACES, {"filter": {"timeRange": time_range}})
    assert message == (
        "time range start 2026-01-01T00:00:00 needs a time zone, e.g. 2026-01-01T00:00Z"
    )


async def test_time_range_bounds_at_the_ends_are_accepted(graph_api: GraphApi) -> None:
    time_range = {"start": "1970-01-01T00:00:00Z", "end": "9000-01-01T00:00:00Z"}
    result = await graph_api.query(TRACES, {"filter": {"timeRange": time_range}})
    assert "errors" not in result, result
