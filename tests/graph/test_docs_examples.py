"""The examples in docs/graphql.md, run as a third party would: the gql client over HTTP
(aiohttp) and WebSocket, against a real server on loopback, on known data."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gql import GraphQLRequest

from tests.graph.conftest import GraphApi
from tests.graph.live_server import LiveServer
from tests.graph.seeding import TraceBuilder, store_and_announce

DOC = Path(__file__).resolve().parents[2] / "docs" / "graphql.md"
NOW = datetime.now(UTC).replace(microsecond=0)


def example(name: str) -> str:
    match = re.search(rf"<!-- example: {name} -->\n```graphql\n(.*?)```", DOC.read_text(), re.S)
    assert match is not None, f"docs/graphql.md has no example {name!r}"
    return match.group(1)


@pytest.fixture(scope="module")
async def seeded(graph_api: GraphApi, live_server: LiveServer) -> dict[str, TraceBuilder]:
    support = TraceBuilder(NOW - timedelta(minutes=30), user_id="u1")
    root = support.span("support agent", kind="AGENT", duration_ms=2000)
    support.span(
        "chat gpt-4o",
        parent=root,
        kind="LLM",
        offset_ms=10,
        duration_ms=1500,
        model="gpt-4o",
        input_tokens=100,
        output_tokens=20,
        cost=0.02,
    )
    support.span("search", parent=root, kind="TOOL", offset_ms=1600, status="ERROR")
    summary = TraceBuilder(NOW - timedelta(minutes=20))
    root = summary.span("summarizer", kind="AGENT", duration_ms=400)
    summary.span(
        "chat claude",
        parent=root,
        kind="LLM",
        offset_ms=5,
        duration_ms=300,
        model="claude-3",
        input_tokens=50,
        output_tokens=10,
        cost=0.01,
    )
    old = TraceBuilder(NOW - timedelta(days=2))
    old.span(
        "chat gpt-4o", kind="LLM", duration_ms=900, model="gpt-4o", total_tokens=500, cost=0.05
    )
    await store_and_announce(graph_api.engine, live_server.project_id, support, summary, old)
    return {"support": support, "summary": summary, "old": old}


async def _run(live_server: LiveServer, name: str, **variables: Any) -> dict[str, Any]:
    async with live_server.http_client() as session:
        request = GraphQLRequest(example(name), variable_values=variables)
        result: dict[str, Any] = await session.execute(request)
        return result


async def test_trace_tree(live_server: LiveServer, seeded: dict[str, TraceBuilder]) -> None:
    result = await _run(live_server, "trace-tree", traceId=seeded["support"].trace_id)
    trace = result["project"]["trace"]
    assert (trace["name"], trace["status"], trace["durationMs"]) == ("support agent", "ERROR", 2000)
    assert (trace["totalTokens"], trace["cost"]) == (120, 0.02)
    assert [(s["name"], s["depth"], s["kind"]) for s in trace["spans"]] == [
        ("support agent", 0, "AGENT"),
        ("chat gpt-4o", 1, "LLM"),
        ("search", 1, "TOOL"),
    ]
    assert trace["spans"][1]["parentSpanId"] == trace["spans"][0]["spanId"]


async def test_slowest_llm_calls(live_server: LiveServer, seeded: dict[str, TraceBuilder]) -> None:
    since = (NOW - timedelta(hours=1)).isoformat()
    result = await _run(live_server, "slowest-llm-calls", since=since)
    nodes = result["project"]["spans"]["nodes"]
    assert [(n["name"], n["model"], n["durationMs"]) for n in nodes] == [
        ("chat gpt-4o", "gpt-4o", 1500),
        ("chat claude", "claude-3", 300),
    ]
    assert nodes[0]["trace"] == {"traceId": seeded["support"].trace_id, "name": "support agent"}


async def test_cost_by_model_per_day(
    live_server: LiveServer, seeded: dict[str, TraceBuilder]
) -> None:
    today = NOW.replace(hour=0, minute=0, second=0)
    start, end = today - timedelta(days=3), today + timedelta(days=1)
    result = await _run(
        live_server, "cost-by-model-per-day", start=start.isoformat(), end=end.isoformat()
    )
    analytics = result["project"]["analytics"]
    groups = {g["key"]: g for g in analytics["groups"]}
    assert groups["gpt-4o"]["spanCount"] == 2
    assert groups["gpt-4o"]["cost"] == pytest.approx(0.07)
    assert groups["gpt-4o"]["totalTokens"] == 620
    assert groups["claude-3"]["cost"] == pytest.approx(0.01)

    def by_day(buckets: list[dict[str, Any]]) -> dict[str, float]:
        return {b["start"][:10]: round(b["cost"], 6) for b in buckets}

    day = {n: (start + timedelta(days=n)).date().isoformat() for n in range(4)}
    expected: dict[str, float] = dict.fromkeys(day.values(), 0.0)
    gpt4o = dict(expected)
    for trace, cost, gpt in (
        ("support", 0.02, True),
        ("summary", 0.01, False),
        ("old", 0.05, True),
    ):
        when = seeded[trace].start.date().isoformat()
        expected[when] = round(expected[when] + cost, 6)
        if gpt:
            gpt4o[when] = round(gpt4o[when] + cost, 6)
    assert by_day(analytics["buckets"]) == expected
    assert by_day(result["project"]["gpt4o"]["buckets"]) == gpt4o


async def test_failing_traces(live_server: LiveServer, seeded: dict[str, TraceBuilder]) -> None:
    result = await _run(live_server, "failing-traces")
    edges = result["project"]["traces"]["edges"]
    assert [e["node"]["traceId"] for e in edges] == [seeded["support"].trace_id]
    assert edges[0]["node"]["errorCount"] == 1
    assert result["project"]["traces"]["pageInfo"]["hasNextPage"] is False


async def test_annotate_trace(live_server: LiveServer, seeded: dict[str, TraceBuilder]) -> None:
    found = await _run(live_server, "trace-tree", traceId=seeded["summary"].trace_id)
    assert found["project"]["trace"]["name"] == "summarizer"
    async with live_server.http_client() as session:
        ids = await session.execute(
            GraphQLRequest(
                "query ($t: String!) { project { trace(traceId: $t) { id } } }",
                variable_values={"t": seeded["summary"].trace_id},
            )
        )
    result = await _run(live_server, "annotate-trace", traceId=ids["project"]["trace"]["id"])
    annotation = result["annotateTrace"]
    assert (annotation["name"], annotation["score"], annotation["source"]) == (
        "helpfulness",
        0.9,
        "HUMAN",
    )


async def _subscribe_while(
    live_server: LiveServer,
    name: str,
    variables: dict[str, Any],
    count: int,
    while_waiting: Callable[[], Awaitable[None]],
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []

    async def collect() -> None:
        async with live_server.client() as session:
            request = GraphQLRequest(example(name), variable_values=variables)
            async for result in session.subscribe(request):
                results.append(result)
                if len(results) >= count:
                    return

    task = asyncio.create_task(collect())
    async with asyncio.timeout(30):
        while not task.done():
            await while_waiting()
            await asyncio.wait([task], timeout=0.3)
    await task
    return results


async def test_live_errors(
    graph_api: GraphApi, live_server: LiveServer, seeded: dict[str, TraceBuilder]
) -> None:
    async def a_good_and_a_failing_trace() -> None:
        good = TraceBuilder(datetime.now(UTC))
        good.span("fine", kind="AGENT")
        bad = TraceBuilder(datetime.now(UTC))
        bad.span("broken", kind="AGENT", status="ERROR")
        await store_and_announce(
            graph_api.engine, live_server.project_id, good, bad, live=live_server.publisher
        )

    results = await _subscribe_while(live_server, "live-errors", {}, 2, a_good_and_a_failing_trace)
    assert {(r["traceUpdates"]["name"], r["traceUpdates"]["status"]) for r in results} == {
        ("broken", "ERROR")
    }


async def test_live_trace_spans(live_server: LiveServer, seeded: dict[str, TraceBuilder]) -> None:
    async def nothing() -> None:
        return None

    results = await _subscribe_while(
        live_server, "live-trace-spans", {"traceId": seeded["support"].trace_id}, 3, nothing
    )
    assert [r["traceSpans"]["name"] for r in results] == ["support agent", "chat gpt-4o", "search"]
