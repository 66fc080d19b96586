"""Keyset pagination stays exact while traces keep arriving."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from storage.projects import ALL_SCOPES, create_project
from tests.graph.conftest import GraphApi
from tests.graph.seeding import TraceBuilder, store

PAGE = """
query ($after: String) {
  project { traces(first: 50, after: $after) {
    nodes { traceId }
    pageInfo { hasNextPage endCursor }
  } }
}
"""


def _traces(start: datetime, count: int) -> list[TraceBuilder]:
    traces = []
    for n in range(count):
        # Every fifth shares its start time with the previous one: ties must not be lost.
        trace = TraceBuilder(start + timedelta(milliseconds=(n - n % 5 // 4) * 10))
        trace.span(f"trace {n}", kind="AGENT")
        traces.append(trace)
    return traces


async def test_walking_1000_traces_returns_each_once_while_new_ones_arrive(
    graph_api: GraphApi,
) -> None:
    project = await create_project(graph_api.engine, f"paging-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    start = datetime(2026, 4, 1, tzinfo=UTC)
    original = _traces(start, 1000)
    await store(graph_api.engine, project.id, *original)

    seen: Counter[str] = Counter()
    after = None
    pages = 0
    while True:
        result = await graph_api.query(PAGE, {"after": after}, api_key=project.api_key)
        assert "errors" not in result, result
        page = result["data"]["project"]["traces"]
        seen.update(node["traceId"] for node in page["nodes"])
        pages += 1
        # Between pages, new traces arrive: newer than everything, and one late
        # straggler that started in the middle of the range already walked.
        newer = _traces(start + timedelta(hours=1, minutes=pages), 3)
        late = _traces(start + timedelta(seconds=pages), 1)
        await store(graph_api.engine, project.id, *newer, *late)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert pages >= 20
    assert all(seen[t.trace_id] == 1 for t in original), "a trace was skipped or repeated"
    assert max(seen.values()) == 1
