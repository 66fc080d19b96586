"""The seed's REST reads: same query code as GraphQL, JSON shapes of their own, and
errors that name the problem."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from storage.projects import ALL_SCOPES, create_project
from tests.graph.conftest import GraphApi
from tests.graph.seeding import TraceBuilder, store

T0 = datetime(2026, 5, 1, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
async def rest(graph_api: GraphApi) -> tuple[httpx.AsyncClient, dict[str, str], list[TraceBuilder]]:
    project = await create_project(graph_api.engine, f"rest-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    traces = []
    for n in range(5):
        trace = TraceBuilder(T0 + timedelta(minutes=n), metadata={"tenant": f"t{n % 2}"})
        root = trace.span(f"agent {n}", kind="AGENT", duration_ms=100 * (n + 1))
        trace.span(
            "llm",
            parent=root,
            kind="LLM",
            offset_ms=1,
            model="gpt-4o" if n % 2 else "claude-3",
            cost=0.01 * n,
            status="ERROR" if n == 3 else "OK",
        )
        traces.append(trace)
    await store(graph_api.engine, project.id, *traces)
    return graph_api.http, {"Authorization": f"Bearer {project.api_key}"}, traces


async def _names(rest: Any, **params: Any) -> list[str]:
    http, auth, _ = rest
    response = await http.get("/api/v1/traces", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return [t["name"] for t in response.json()["items"]]


async def test_trace_list_filters_and_sorts_like_graphql(rest: Any) -> None:
    assert await _names(rest) == [f"agent {n}" for n in (4, 3, 2, 1, 0)]
    assert await _names(rest, status="ERROR") == ["agent 3"]
    assert await _names(rest, model="gpt-4o", sort="COST", order="ASC") == ["agent 1", "agent 3"]
    assert await _names(rest, metadata="tenant=t0", min_duration_ms=200) == ["agent 4", "agent 2"]
    assert await _names(rest, name_contains="AGENT 1") == ["agent 1"]
    assert await _names(rest, span_kind="llm", has_error=False, max_cost=0.015) == [
        "agent 1",
        "agent 0",
    ]


async def test_trace_list_pages_by_cursor(rest: Any) -> None:
    http, auth, _ = rest
    names, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await http.get("/api/v1/traces", params=params, headers=auth)).json()
        names += [t["name"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == [f"agent {n}" for n in (4, 3, 2, 1, 0)]


async def test_trace_detail_lists_spans_in_tree_order_with_depth(rest: Any) -> None:
    http, auth, traces = rest
    response = await http.get(f"/api/v1/traces/{traces[2].trace_id}", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["span_count"]) == ("agent 2", 2)
    assert [(s["name"], s["depth"]) for s in body["spans"]] == [("agent 2", 0), ("llm", 1)]


async def test_projects_lists_the_keys_project(rest: Any) -> None:
    http, auth, _ = rest
    body = (await http.get("/api/v1/projects", headers=auth)).json()
    assert [p["name"][:5] for p in body["items"]] == ["rest-"]


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        (
            "/api/v1/traces?metadata=tenant",
            400,
            "metadata filter 'tenant' must look like key=value",
        ),
        ("/api/v1/traces?cursor=nope", 400, "cursor is not one this API returned"),
        ("/api/v1/traces?limit=500", 422, "limit: Input should be less than or equal to 200"),
        (
            "/api/v1/traces?sort=SIZE",
            422,
            "sort: Input should be 'START_TIME', 'DURATION', 'COST' or 'TOKENS'",
        ),
        ("/api/v1/traces/xyz", 400, "trace id 'xyz'"),
        (f"/api/v1/traces/{'ab' * 16}", 404, f"no trace {'ab' * 16} in this project"),
    ],
)
async def test_bad_requests_get_4xx_naming_the_problem(
    rest: Any, path: str, status: int, error: str
) -> None:
    http, auth, _ = rest
    response = await http.get(path, headers=auth)
    assert response.status_code == status
    assert response.json()["error"].startswith(error)


NUL = "a\u0000b"
UUID = str(uuid.uuid4())


def _forged_cursor(*payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(payload)).encode()).decode()


RANGE = {"start": "2026-05-01T00:00:00Z", "end": "2026-05-02T00:00:00Z"}


@pytest.mark.parametrize(
    ("path", "params", "error"),
    [
        *(
            ("/api/v1/traces", {name: value}, "filter values may not contain NUL characters")
            for name, value in [
                ("name", NUL),
                ("name_contains", NUL),
                ("tag", NUL),
                ("tag_all", NUL),
                ("model", NUL),
                ("user_id", NUL),
                ("session_id", NUL),
                ("environment", NUL),
                ("metadata", f"{NUL}=v"),
                ("metadata", f"k={NUL}"),
                ("attribute", f"k={NUL}"),
            ]
        ),
        *(
            ("/api/v1/analytics", RANGE | {name: NUL}, "filter values may not contain NUL")
            for name in ("model", "user_id", "session_id", "environment")
        ),
        (
            "/api/v1/traces",
            {"start_time_from": "0001-01-01T00:00:00+05:00"},
            "time range start 0001-01-01T00:00:00+05:00 is out of range",
        ),
        (
            "/api/v1/traces",
            {"start_time_to": "9999-12-31T23:59:00-05:00"},
            "time range end 9999-12-31T23:59:00-05:00 is out of range",
        ),
        (
            "/api/v1/traces",
            {"start_time_from": "2026-05-01T08:00:00"},
            "time range start 2026-05-01T08:00:00 needs a time zone",
        ),
        (
            "/api/v1/analytics",
            RANGE | {"start": "0001-01-01T00:00:00+05:00"},
            "time range start 0001-01-01T00:00:00+05:00 is out of range",
        ),
        (
            "/api/v1/analytics",
            RANGE | {"end": "9999-12-31T23:59:00-05:00"},
            "time range end 9999-12-31T23:59:00-05:00 is out of range",
        ),
        (
            "/api/v1/traces",
            {"cursor": _forged_cursor("START_TIME:DESC", "2026-05-01T08:00:00+00:00", "x")},
            "cursor is not one this API returned",
        ),
        (
            "/api/v1/traces",
            {"cursor": _forged_cursor("START_TIME:DESC", "0001-01-01T00:00:00+05:00", UUID)},
            "cursor is not one this API returned",
        ),
    ],
)
async def test_inputs_the_database_cannot_take_get_400_naming_the_problem(
    rest: Any, path: str, params: dict[str, str], error: str
) -> None:
    http, auth, _ = rest
    response = await http.get(path, params=params, headers=auth)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(error)
