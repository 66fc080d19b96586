"""Rollups through `agenttrace serve` (a real subprocess on embedded defaults): spans sent
over HTTP are stored, rolled up by serve's own analytics worker, and a long-range
analytics query answers from the rollups."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from storage.rollups import RELATIVE_ERROR, bucket_value, latency_bucket
from tests.e2e.helpers import Api, served
from tests.payloads import native_batch, new_span_id, new_trace_id
from tests.processes import wait_until

HOUR_NS = 3600 * 10**9
DURATION_MS = 100.0
TRACES = 40


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir = tmp_path_factory.mktemp("rollups-serve-data")
    env = {"AGENTTRACE_ANALYTICS_FLUSH_INTERVAL_S": "0.5"}
    with served(data_dir, env, name="rollups-serve") as server:
        yield server.api


ANALYTICS = """
query ($range: TimeRangeInput!) {
  project {
    analytics(timeRange: $range, bucket: HOUR) {
      totals { spanCount errorSpanCount inputTokens outputTokens cost traceCount
               traceLatencyP50Ms }
      groups(by: MODEL) { key spanCount spanLatencyP50Ms spanLatencyP99Ms }
    }
  }
}
"""


def _analytics(api: Api, start_ns: int, end_ns: int) -> dict[str, Any]:
    def iso(ns: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ns // 10**9))

    response = api.http.post(
        "/graphql",
        json={
            "query": ANALYTICS,
            "variables": {"range": {"start": iso(start_ns), "end": iso(end_ns)}},
        },
        headers=api.auth,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["project"]["analytics"]
    return found


def test_a_long_range_query_answers_from_the_rollups_of_sent_spans(serve: Api) -> None:
    now = time.time_ns()
    for i in range(TRACES):
        # Spread over the last 20 hours, all older than the raw tail of recent minutes.
        start = now - 10 * 60 * 10**9 - i * HOUR_NS // 2
        span = {
            "span_id": new_span_id(),
            "name": "chat",
            "kind": "LLM",
            "model": "gpt-4o",
            "status": "ERROR" if i % 10 == 0 else "OK",
            "start_time": start,
            "end_time": start + int(DURATION_MS * 10**6),
            "input_tokens": 10,
            "output_tokens": 5,
            "cost": 0.01,
        }
        response = serve.post(
            "/api/v1/traces",
            orjson.dumps(native_batch(new_trace_id(), [span])),
            "application/json",
        )
        assert response.status_code < 300, response.text

    rolled = bucket_value(latency_bucket(DURATION_MS))
    assert rolled != DURATION_MS
    assert abs(rolled - DURATION_MS) <= RELATIVE_ERROR * DURATION_MS
    found: dict[str, Any] = {}

    def answered_from_rollups() -> bool:
        found.update(_analytics(serve, now - 24 * HOUR_NS, now + 60 * 10**9))
        totals = found["totals"]
        # The raw rows would say exactly 100 ms: the histogram's value means rollups.
        return bool(totals["spanCount"] == TRACES and totals["traceLatencyP50Ms"] == rolled)

    wait_until(answered_from_rollups, 60, lambda: str(found))
    totals = found["totals"]
    assert totals["errorSpanCount"] == TRACES // 10
    assert (totals["inputTokens"], totals["outputTokens"]) == (10 * TRACES, 5 * TRACES)
    assert math.isclose(totals["cost"], 0.01 * TRACES, rel_tol=1e-9)
    assert totals["traceCount"] == TRACES
    assert found["groups"] == [
        {
            "key": "gpt-4o",
            "spanCount": TRACES,
            "spanLatencyP50Ms": rolled,
            "spanLatencyP99Ms": rolled,
        }
    ]
