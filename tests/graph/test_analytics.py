"""Project analytics, GraphQL and REST, checked number by number against values computed
here from the seed itself (percentiles by percentile_cont's linear interpolation)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.otel_ids import span_id_from_hex, trace_id_from_hex
from storage.projects import ALL_SCOPES, create_project
from tests.graph.conftest import GraphApi
from tests.graph.seeding import TraceBuilder, store

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)
RANGE = (T0, T0 + 4 * HOUR)  # 10:00 to 14:00; nothing starts between 12:00 and 13:00
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
MODEL_CALLS = {"LLM", "EMBEDDING"}


@dataclass(frozen=True)
class Seeded:
    """One seeded span, read back from the records the builder wrote."""

    trace_id: str
    span_id: str
    name: str
    kind: str
    status: str
    start: datetime
    end: datetime | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    cost: float | None

    @property
    def duration_ms(self) -> float | None:
        return None if self.end is None else (self.end - self.start) / MS

    @property
    def order_key(self) -> tuple[uuid.UUID, int]:
        return trace_id_from_hex(self.trace_id), span_id_from_hex(self.span_id)


@dataclass(frozen=True)
class SeededTrace:
    spans: list[Seeded]

    @property
    def start(self) -> datetime:
        return min(s.start for s in self.spans)

    @property
    def duration_ms(self) -> float | None:
        ends = [s.end for s in self.spans]
        if any(e is None for e in ends):
            return None  # still running
        return (max(e for e in ends if e is not None) - self.start) / MS

    @property
    def failed(self) -> bool:
        return any(s.status == "ERROR" for s in self.spans)


def _time(nanos: int) -> datetime:
    return EPOCH + timedelta(microseconds=nanos // 1000)


def _seeded(builder: TraceBuilder) -> SeededTrace:
    spans = []
    for r in builder.records:
        end = r.get("end_time_unix_nano")
        spans.append(
            Seeded(
                trace_id=r["trace_id"],
                span_id=r["span_id"],
                name=r["name"],
                kind=r.get("kind", "SPAN"),
                status=r.get("status", "UNSET"),
                start=_time(r["start_time_unix_nano"]),
                end=None if end is None else _time(end),
                model=r.get("model"),
                input_tokens=r.get("input_tokens"),
                output_tokens=r.get("output_tokens"),
                total_tokens=r.get("total_tokens"),
                cost=r.get("cost"),
            )
        )
    return SeededTrace(spans)


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _percentiles(values: list[float], prefix: str) -> dict[str, float | None]:
    return {f"{prefix}_p{round(f * 100)}_ms": percentile_cont(values, f) for f in (0.5, 0.95, 0.99)}


def _usage(spans: list[Seeded]) -> dict[str, Any]:
    calls = [s for s in spans if s.kind in MODEL_CALLS]
    return {
        "input_tokens": sum(s.input_tokens or 0 for s in calls),
        "output_tokens": sum(s.output_tokens or 0 for s in calls),
        "total_tokens": sum(
            s.total_tokens
            if s.total_tokens is not None
            else (s.input_tokens or 0) + (s.output_tokens or 0)
            for s in calls
        ),
        "cost": sum(s.cost or 0 for s in calls),
    }


Match = Callable[[Seeded], bool]


def _everything(span: Seeded) -> bool:
    return True


@dataclass(frozen=True)
class Seed:
    traces: list[SeededTrace]
    api_key: str

    def spans_in(self, low: datetime, high: datetime, match: Match) -> list[Seeded]:
        return [s for t in self.traces for s in t.spans if low <= s.start < high and match(s)]

    def traces_in(
        self, low: datetime, high: datetime, match: Match, selected: tuple[datetime, datetime]
    ) -> list[SeededTrace]:
        """Traces started in [low, high) holding a span that ``match``es and starts in the
        ``selected`` range (the whole asked range, also for a bucket)."""
        return [
            t
            for t in self.traces
            if low <= t.start < high
            and any(match(s) and selected[0] <= s.start < selected[1] for s in t.spans)
        ]

    def measures(
        self,
        low: datetime,
        high: datetime,
        match: Match = _everything,
        selected: tuple[datetime, datetime] | None = None,
    ) -> dict[str, Any]:
        spans = self.spans_in(low, high, match)
        traces = self.traces_in(low, high, match, selected or (low, high))
        errors = sum(t.failed for t in traces)
        failed_spans = sum(s.status == "ERROR" for s in spans)
        finished = [d for t in traces if (d := t.duration_ms) is not None]
        return (
            {
                "trace_count": len(traces),
                "error_trace_count": errors,
                "trace_error_rate": errors / len(traces) if traces else None,
            }
            | _percentiles(finished, "trace_latency")
            | {
                "span_count": len(spans),
                "error_span_count": failed_spans,
                "error_rate": failed_spans / len(spans) if spans else None,
            }
            | _usage(spans)
        )

    def buckets(
        self, low: datetime, high: datetime, step: timedelta, match: Match = _everything
    ) -> list[dict[str, Any]]:
        start = low.replace(minute=0, second=0, microsecond=0)  # hour buckets only
        result = []
        while start < high:
            inside = (max(start, low), min(start + step, high))
            result.append(
                {"start": start, "end": start + step}
                | self.measures(*inside, match=match, selected=(low, high))
            )
            start += step
        return result

    def groups(
        self, low: datetime, high: datetime, key: Callable[[Seeded], str | None]
    ) -> list[dict[str, Any]]:
        by_key: dict[str, list[Seeded]] = {}
        for span in self.spans_in(low, high, _everything):
            if (k := key(span)) is not None:
                by_key.setdefault(k, []).append(span)
        groups = []
        for k, spans in by_key.items():
            failed = sum(s.status == "ERROR" for s in spans)
            durations = [d for s in spans if (d := s.duration_ms) is not None]
            groups.append(
                {
                    "key": k,
                    "span_count": len(spans),
                    "error_count": failed,
                    "error_rate": failed / len(spans),
                }
                | _percentiles(durations, "span_latency")
                | _usage(spans)
            )
        return sorted(groups, key=lambda g: (-g["span_count"], g["key"]))

    def slowest(self, low: datetime, high: datetime, limit: int) -> list[str]:
        spans = [s for s in self.spans_in(low, high, _everything) if s.end is not None]
        spans.sort(key=lambda s: (-(s.duration_ms or 0), s.order_key))
        return [s.span_id for s in spans[:limit]]

    def costliest(self, low: datetime, high: datetime, limit: int) -> list[str]:
        spans = [
            s
            for s in self.spans_in(low, high, _everything)
            if s.kind in MODEL_CALLS and s.cost is not None
        ]
        spans.sort(key=lambda s: (-(s.cost or 0), s.order_key))
        return [s.span_id for s in spans[:limit]]


def _builders() -> list[TraceBuilder]:
    at = T0
    a = TraceBuilder(at + timedelta(minutes=5), environment="prod")
    root = a.span("agent", kind="AGENT", duration_ms=1000)
    a.span(
        "chat",
        parent=root,
        kind="LLM",
        offset_ms=10,
        duration_ms=400,
        model="gpt-4o",
        input_tokens=100,
        output_tokens=20,
        cost=0.01,
    )
    a.span("search", parent=root, kind="TOOL", offset_ms=500, duration_ms=200, status="ERROR")

    b = TraceBuilder(at + timedelta(minutes=30), environment="prod")
    root = b.span("agent", kind="AGENT", duration_ms=2500)
    b.span(
        "chat",
        parent=root,
        kind="LLM",
        offset_ms=100,
        duration_ms=1200,
        model="claude-3-5-sonnet",
        input_tokens=300,
        output_tokens=50,
        total_tokens=360,
        cost=0.05,
    )
    b.span(
        "embed",
        parent=root,
        kind="EMBEDDING",
        offset_ms=1400,
        duration_ms=50,
        model="text-embedding-3-small",
        input_tokens=1000,
        cost=0.0001,
    )
    # A framework's own roll-up on a chain: never added to tokens or cost.
    b.span(
        "plan",
        parent=root,
        kind="CHAIN",
        offset_ms=1500,
        duration_ms=900,
        input_tokens=999,
        output_tokens=1,
        cost=9.9,
    )

    c = TraceBuilder(at + timedelta(minutes=45))  # still running: its root has no end
    root = c.span("agent", kind="AGENT", duration_ms=None)
    c.span(
        "chat",
        parent=root,
        kind="LLM",
        offset_ms=5,
        duration_ms=300,
        model="gpt-4o",
        input_tokens=50,
        output_tokens=5,
        cost=0.002,
    )

    d = TraceBuilder(at + HOUR)
    root = d.span("agent", kind="AGENT", duration_ms=800, status="ERROR")
    d.span(
        "chat",
        parent=root,
        kind="LLM",
        offset_ms=10,
        duration_ms=700,
        status="ERROR",
        model="gpt-4o",
        input_tokens=200,
        output_tokens=40,
        cost=0.02,
    )

    e = TraceBuilder(at + HOUR + timedelta(minutes=20))
    e.span(
        "chat",
        kind="LLM",
        duration_ms=150,
        model="gpt-4o-mini",
        input_tokens=10,
        output_tokens=3,
        cost=0.0003,
    )

    # 12:00 to 13:00: nothing.

    g = TraceBuilder(at + 3 * HOUR + timedelta(minutes=10))
    root = g.span("agent", kind="AGENT", duration_ms=5000)
    # Three billion tokens: sums past 2^31, which GraphQL's Int could not carry.
    g.span(
        "chat",
        parent=root,
        kind="LLM",
        offset_ms=10,
        duration_ms=100,
        model="gpt-4o",
        input_tokens=3_000_000_000,
        output_tokens=500,
        cost=30.0,
    )
    g.span(
        "chat",
        parent=root,
        kind="LLM",
        offset_ms=200,
        duration_ms=200,
        model="gpt-4o",
        input_tokens=400,
        output_tokens=80,
        cost=0.04,
    )
    g.span(
        "chat",
        parent=root,
        kind="LLM",
        offset_ms=500,
        duration_ms=4000,
        model="gpt-4o-mini",
        input_tokens=20,
        output_tokens=10,
        cost=0.001,
    )
    g.span("search", parent=root, kind="TOOL", offset_ms=4600, duration_ms=300)
    g.span("retrieve", parent=root, kind="RETRIEVER", offset_ms=4700, duration_ms=250)

    # Starts inside the range, but its model call starts after the range ends.
    h = TraceBuilder(at + 4 * HOUR - timedelta(milliseconds=500))
    root = h.span("agent", kind="AGENT", duration_ms=2000)
    h.span(
        "chat",
        parent=root,
        kind="LLM",
        offset_ms=600,
        duration_ms=100,
        model="gpt-4o",
        input_tokens=7,
        output_tokens=7,
        cost=0.5,
    )

    outside = []
    for start in (at - timedelta(minutes=1), at + 4 * HOUR):
        o = TraceBuilder(start)
        root = o.span("agent", kind="AGENT", duration_ms=100)
        o.span("chat", parent=root, kind="LLM", offset_ms=1, duration_ms=50, cost=1.0)
        outside.append(o)
    return [a, b, c, d, e, g, h, *outside]


@pytest.fixture(scope="module")
async def seed(graph_api: GraphApi) -> Seed:
    project = await create_project(
        graph_api.engine, f"analytics-{uuid.uuid4().hex[:8]}", ALL_SCOPES
    )
    builders = _builders()
    await store(graph_api.engine, project.id, *builders)
    return Seed([_seeded(b) for b in builders], project.api_key)


MEASURES = """traceCount errorTraceCount traceErrorRate traceLatencyP50Ms traceLatencyP95Ms
    traceLatencyP99Ms spanCount errorSpanCount errorRate inputTokens outputTokens totalTokens
    cost"""
GROUP = """key spanCount errorCount errorRate spanLatencyP50Ms spanLatencyP95Ms
    spanLatencyP99Ms inputTokens outputTokens totalTokens cost"""
ANALYTICS = f"""
query ($range: TimeRangeInput!, $bucket: TimeBucket, $filter: SpanFilter) {{
  project {{
    analytics(timeRange: $range, bucket: $bucket, filter: $filter) {{
      bucket
      buckets {{ start end {MEASURES} }}
      totals {{ {MEASURES} }}
      byModel: groups(by: MODEL) {{ {GROUP} }}
      byKind: groups(by: KIND, limit: 100) {{ {GROUP} }}
      byName: groups(by: NAME, limit: 2) {{ {GROUP} }}
      slowestSpans {{ spanId durationMs }}
      costliestSpans(limit: 5) {{ spanId cost kind }}
    }}
  }}
}}
"""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _graph(expected: dict[str, Any]) -> dict[str, Any]:
    return {_camel(k): v.isoformat() if isinstance(v, datetime) else v for k, v in expected.items()}


def _rest(expected: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in expected.items()}


def assert_close(got: Any, expected: Any, where: str = "") -> None:
    """Equal, numbers to 1e-9 (sums of doubles depend on their order), at any depth."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), where
        assert got.keys() == expected.keys(), where
        for key in expected:
            assert_close(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list), where
        assert len(got) == len(expected), where
        for n, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_close(g, e, f"{where}[{n}]")
    elif isinstance(expected, int | float) and not isinstance(expected, bool):
        assert isinstance(got, int | float), (where, got)
        assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9), (where, got, expected)
    else:
        assert got == expected, (where, got, expected)


def _without_times(bucket: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bucket.items() if k not in ("start", "end")}


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def _analytics(api: GraphApi, seed: Seed, variables: dict[str, Any]) -> dict[str, Any]:
    result = await api.query(ANALYTICS, variables, api_key=seed.api_key)
    assert "errors" not in result, result["errors"]
    analytics: dict[str, Any] = result["data"]["project"]["analytics"]
    return analytics


def _range_vars(low: datetime, high: datetime) -> dict[str, str]:
    return {"start": _iso(low), "end": _iso(high)}


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_graphql_analytics_match_the_seed(graph_api: GraphApi, seed: Seed) -> None:
    low, high = RANGE
    got = await _analytics(graph_api, seed, {"range": _range_vars(low, high)})
    assert got["bucket"] == "HOUR"

    expected_buckets = seed.buckets(low, high, HOUR)
    assert [(_dt(b["start"]), _dt(b["end"])) for b in got["buckets"]] == [
        (b["start"], b["end"]) for b in expected_buckets
    ]
    assert_close(
        [_without_times(b) for b in got["buckets"]],
        [_graph(_without_times(b)) for b in expected_buckets],
    )
    empty = got["buckets"][2]
    assert (empty["traceCount"], empty["spanCount"], empty["cost"]) == (0, 0, 0)
    assert (empty["traceLatencyP50Ms"], empty["errorRate"]) == (None, None)

    totals = seed.measures(low, high)
    assert_close(got["totals"], _graph(totals))
    # The seed's own sums, spelled out: the CHAIN's roll-up and spans outside are left out.
    assert got["totals"]["inputTokens"] == 3_000_002_080
    assert got["totals"]["cost"] == pytest.approx(30.1234)
    assert (got["totals"]["traceCount"], got["totals"]["spanCount"]) == (7, 19)

    assert_close(got["byModel"], [_graph(g) for g in seed.groups(low, high, _model)])
    assert_close(got["byKind"], [_graph(g) for g in seed.groups(low, high, _kind)])
    assert_close(got["byName"], [_graph(g) for g in seed.groups(low, high, _name)[:2]])
    assert [g["key"] for g in got["byModel"]] == [
        "gpt-4o",
        "gpt-4o-mini",
        "claude-3-5-sonnet",
        "text-embedding-3-small",
    ]

    assert [s["spanId"] for s in got["slowestSpans"]] == seed.slowest(low, high, 10)
    assert got["slowestSpans"][0]["durationMs"] == pytest.approx(5000)
    assert [s["spanId"] for s in got["costliestSpans"]] == seed.costliest(low, high, 5)
    assert_close([s["cost"] for s in got["costliestSpans"]], [30.0, 0.05, 0.04, 0.02, 0.01])


def _model(span: Seeded) -> str | None:
    return span.model


def _kind(span: Seeded) -> str:
    return span.kind


def _name(span: Seeded) -> str:
    return span.name


async def test_filter_selects_spans_and_the_traces_having_one(
    graph_api: GraphApi, seed: Seed
) -> None:
    low, high = RANGE

    def gpt_4o(span: Seeded) -> bool:
        return span.model == "gpt-4o"

    got = await _analytics(
        graph_api, seed, {"range": _range_vars(low, high), "filter": {"model": ["gpt-4o"]}}
    )
    assert_close(got["totals"], _graph(seed.measures(low, high, gpt_4o)))
    # Not the late trace: its gpt-4o call starts after the range, so it is not selected.
    assert (got["totals"]["traceCount"], got["totals"]["spanCount"]) == (4, 5)
    assert_close(
        [_without_times(b) for b in got["buckets"]],
        [_graph(_without_times(b)) for b in seed.buckets(low, high, HOUR, gpt_4o)],
    )


async def test_ranges_that_cut_buckets_count_only_what_is_inside(
    graph_api: GraphApi, seed: Seed
) -> None:
    low, high = T0 + timedelta(minutes=20), T0 + timedelta(hours=1, minutes=10)
    got = await _analytics(graph_api, seed, {"range": _range_vars(low, high)})
    assert [_dt(b["start"]) for b in got["buckets"]] == [T0, T0 + HOUR]
    assert_close(
        [_without_times(b) for b in got["buckets"]],
        [_graph(_without_times(b)) for b in seed.buckets(low, high, HOUR)],
    )
    assert_close(got["totals"], _graph(seed.measures(low, high)))
    assert got["totals"]["traceCount"] == 3  # B, C and D; A started before 10:20


async def test_minute_and_day_buckets_are_aligned_to_the_utc_clock(
    graph_api: GraphApi, seed: Seed
) -> None:
    low, high = T0 + timedelta(minutes=4, seconds=30), T0 + timedelta(minutes=7)
    got = await _analytics(graph_api, seed, {"range": _range_vars(low, high), "bucket": "MINUTE"})
    assert [(_dt(b["start"]), b["spanCount"]) for b in got["buckets"]] == [
        (T0 + timedelta(minutes=4), 0),
        (T0 + timedelta(minutes=5), 3),
        (T0 + timedelta(minutes=6), 0),
    ]
    day = await _analytics(
        graph_api,
        seed,
        {"range": _range_vars(T0 - timedelta(days=1), T0 + timedelta(days=1)), "bucket": "DAY"},
    )
    midnight = T0.replace(hour=0)
    assert [_dt(b["start"]) for b in day["buckets"]] == [
        midnight - timedelta(days=1),
        midnight,
        midnight + timedelta(days=1),
    ]
    assert [b["spanCount"] for b in day["buckets"]] == [0, 24, 0]


async def test_a_range_without_data_has_zeros_and_null_percentiles(
    graph_api: GraphApi, seed: Seed
) -> None:
    low = T0 + timedelta(days=30)
    got = await _analytics(graph_api, seed, {"range": _range_vars(low, low + 2 * HOUR)})
    assert len(got["buckets"]) == 2
    assert_close(got["totals"], _graph(seed.measures(low, low + 2 * HOUR)))
    assert got["totals"]["traceLatencyP99Ms"] is None
    assert (got["byModel"], got["slowestSpans"], got["costliestSpans"]) == ([], [], [])


async def test_another_projects_spans_are_not_counted(graph_api: GraphApi, seed: Seed) -> None:
    # graph_api's own project has none of the seed's traces.
    low, high = RANGE
    result = await graph_api.query(
        "query ($r: TimeRangeInput!) { project { analytics(timeRange: $r) {"
        " totals { traceCount spanCount } } } }",
        {"r": _range_vars(low, high)},
    )
    assert result["data"]["project"]["analytics"]["totals"] == {"traceCount": 0, "spanCount": 0}


async def _error(api: GraphApi, seed: Seed, query: str, variables: dict[str, Any]) -> str:
    result = await api.query(query, variables, api_key=seed.api_key)
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "INVALID_ARGUMENT", error
    message: str = error["message"]
    return message


async def test_too_many_buckets_is_refused_with_the_limit_and_a_coarser_bucket(
    graph_api: GraphApi, seed: Seed
) -> None:
    message = await _error(
        graph_api,
        seed,
        "query ($r: TimeRangeInput!) { project { analytics(timeRange: $r, bucket: MINUTE) {"
        " buckets { start } } } }",
        {"r": _range_vars(T0, T0 + timedelta(days=2))},
    )
    assert "2880 MINUTE buckets" in message
    assert "at most 1500" in message
    assert "HOUR or DAY" in message
    # Totals need no buckets: the same range and bucket is fine for them.
    fine = await graph_api.query(
        "query ($r: TimeRangeInput!) { project { analytics(timeRange: $r, bucket: MINUTE) {"
        " totals { spanCount } } } }",
        {"r": _range_vars(T0, T0 + timedelta(days=2))},
        api_key=seed.api_key,
    )
    expected = seed.measures(T0, T0 + timedelta(days=2))["span_count"]
    assert fine["data"]["project"]["analytics"]["totals"]["spanCount"] == expected == 22


@pytest.mark.parametrize(
    ("time_range", "says"),
    [
        ({"start": "2026-03-02T10:00:00Z"}, "both a start and an end"),
        ({"end": "2026-03-02T10:00:00Z"}, "both a start and an end"),
        ({}, "both a start and an end"),
        ({"start": "2026-03-02T11:00:00Z", "end": "2026-03-02T10:00:00Z"}, "before its end"),
    ],
)
async def test_analytics_needs_an_ordered_range_with_both_bounds(
    graph_api: GraphApi, seed: Seed, time_range: dict[str, str], says: str
) -> None:
    message = await _error(
        graph_api,
        seed,
        "query ($r: TimeRangeInput!) { project { analytics(timeRange: $r) { bucket } } }",
        {"r": time_range},
    )
    assert says in message


@pytest.mark.parametrize("field", ["groups(by: KIND, limit: 0)", "slowestSpans(limit: 101)"])
async def test_limits_outside_1_to_100_are_refused(
    graph_api: GraphApi, seed: Seed, field: str
) -> None:
    message = await _error(
        graph_api,
        seed,
        f"query ($r: TimeRangeInput!) {{ project {{ analytics(timeRange: $r) {{ {field} {{"
        " __typename } } } }",
        {"r": _range_vars(*RANGE)},
    )
    assert "between 1 and 100" in message


async def test_rest_analytics_match_the_seed(graph_api: GraphApi, seed: Seed) -> None:
    low, high = T0 + timedelta(minutes=20), RANGE[1]
    response = await graph_api.http.get(
        "/api/v1/analytics",
        params={"start": low.isoformat(), "end": high.isoformat(), "group_by": "kind"},
        headers={"Authorization": f"Bearer {seed.api_key}"},
    )
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["bucket"] == "hour"
    assert_close(got["buckets"], [_rest(b) for b in seed.buckets(low, high, HOUR)])
    assert_close(got["totals"], _rest(seed.measures(low, high)))
    assert got["totals"]["input_tokens"] == 3_000_001_980
    assert_close(got["groups"], [_rest(g) for g in seed.groups(low, high, _kind)])

    filtered = await graph_api.http.get(
        "/api/v1/analytics",
        params={
            "start": low.isoformat(),
            "end": high.isoformat(),
            "bucket": "day",
            "span_kind": "llm",
        },
        headers={"Authorization": f"Bearer {seed.api_key}"},
    )
    assert filtered.status_code == 200, filtered.text
    body = filtered.json()
    assert body["groups"] is None
    assert_close(body["totals"], _rest(seed.measures(low, high, lambda s: s.kind == "LLM")))


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"start": "2026-03-02T10:00:00Z"}, "both a start and an end"),
        (
            {"start": "2026-03-02T00:00:00Z", "end": "2026-03-04T00:00:00Z", "bucket": "minute"},
            "at most 1500",
        ),
        (
            {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z", "bucket": "week"},
            "bucket must be one of minute, hour, day",
        ),
        ({"start": "2026-03-02T00:00:00", "end": "2026-03-03T00:00:00"}, "time zone"),
        (
            {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z", "group_by": "user"},
            "group_by must be one of model, kind, name",
        ),
    ],
)
async def test_rest_refuses_bad_ranges_and_choices(
    graph_api: GraphApi, seed: Seed, params: dict[str, str], says: str
) -> None:
    response = await graph_api.http.get(
        "/api/v1/analytics", params=params, headers={"Authorization": f"Bearer {seed.api_key}"}
    )
    assert response.status_code == 400, response.text
    assert says in response.json()["error"]


STATEMENTS = """query ($r: TimeRangeInput!) { project { analytics(timeRange: $r) {
    buckets { start spanCount traceLatencyP95Ms } totals { cost }
    groups(by: MODEL) { key } slowestSpans { name } } } }"""


async def _statements(api: GraphApi, seed: Seed, variables: dict[str, Any]) -> list[str]:
    api.statements.clear()
    result = await api.query(STATEMENTS, variables, api_key=seed.api_key)
    assert "errors" not in result, result
    # Leaves out the API key lookup (cached for a while) and the project's own row.
    return [s for s in api.statements if "FROM spans" in s or "FROM traces" in s]


async def test_analytics_runs_one_statement_per_field_whatever_the_range(
    graph_api: GraphApi, seed: Seed
) -> None:
    hour = await _statements(graph_api, seed, {"r": _range_vars(T0, T0 + HOUR)})
    day = await _statements(graph_api, seed, {"r": _range_vars(T0 - HOUR, T0 + timedelta(days=1))})
    assert len(hour) == len(day) == 4
