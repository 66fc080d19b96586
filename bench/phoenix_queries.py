"""The reads of bench/phoenix.py: each product's GraphQL to open a trace and to list its
failed traces, and their latency, measured in interleaved rounds.

Opening a trace is what each product's own UI sends:

- Phoenix: ``TraceDetailsQuery``, read at run time from the UI bundle of the installed
  package (the exact text its trace page sends: the trace, its first 1,000 spans with
  their fields, cost and annotation summaries, the root span, the project's annotation
  configs);
- AgentTrace: the dashboard's ``TraceOutline`` (dashboard/src/components/trace/queries.ts):
  the trace's fields and ``spanOutline``, every span in outline as one JSON value.

The failed-trace list is written for this bench in each product's GraphQL, the same rows
for both: the 50 newest traces with at least one failed span, with their name, status,
times, span count and tokens. (Phoenix's own traces page sends a larger query, with 50
descendants of each root span; the lean one is the fairer comparison.)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.graphql import LIST_ERROR_QUERY
from bench.phoenix_servers import PHOENIX_VENV, AgentTraceServer, Server

_BUNDLE_QUERY = re.compile(r"text:`(query TraceDetailsQuery\(.*?)`", re.DOTALL)


def phoenix_trace_detail_query() -> str:
    """Phoenix UI's ``TraceDetailsQuery``, from the installed package's JavaScript bundle."""
    for bundle in sorted(
        PHOENIX_VENV.glob("lib/python*/site-packages/phoenix/server/static/assets/*.js")
    ):
        found = _BUNDLE_QUERY.search(bundle.read_text(errors="replace"))
        if found:
            return found.group(1)
    raise RuntimeError(f"no TraceDetailsQuery in Phoenix's UI bundle under {PHOENIX_VENV}")


AGENTTRACE_TRACE_DETAIL = """query TraceOutline($projectId: ID!, $traceId: String!) {
  project(id: $projectId) {
    id
    trace(traceId: $traceId) {
      id traceId name status startTime endTime durationMs spanCount errorCount
      inputTokens outputTokens totalTokens cost userId sessionId environment tags
      spanOutline
    }
  }
}"""

AGENTTRACE_ERROR_LIST = LIST_ERROR_QUERY
"""``project { traces(filter: {status: [ERROR]}, first: 50) {...} }`` (bench/graphql.py):
a trace's status is ERROR when any of its spans failed; newest first."""

PHOENIX_ERROR_LIST = """query ErrorTraces($id: ID!) {
  node(id: $id) {
    ... on Project {
      spans(first: 50, sort: {col: startTime, dir: desc},
            filterCondition: "parent_span is None", traceFilterCondition: "error_count > 0") {
        edges {
          node {
            spanId name statusCode startTime endTime latencyMs cumulativeTokenCountTotal
            trace { traceId numSpans }
          }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"""
"""Root spans (one per trace) of traces with at least one failed span, newest first: how
Phoenix lists traces (its traces page is its root spans)."""

Check = Callable[[Any], str | None]
"""A problem with an answer's data, or None."""


@dataclass(frozen=True, slots=True)
class Read:
    """One server's request for a figure: the query, the variables of its i-th request,
    and a check of each answer."""

    query: str
    variables: Callable[[int], Mapping[str, Any]]
    check: Check


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    reads: dict[str, Read]
    """By server name."""


def _phoenix_detail_check(size: int) -> Check:
    def check(data: Any) -> str | None:
        spans = len(data["project"]["trace"]["spans"]["edges"])
        return None if spans == size else f"{spans} spans, not {size}"

    return check


def _agenttrace_detail_check(size: int) -> Check:
    def check(data: Any) -> str | None:
        spans = len(data["project"]["trace"]["spanOutline"]["rows"])
        return None if spans == size else f"{spans} spans, not {size}"

    return check


def _phoenix_list_check(expected: int) -> Check:
    def check(data: Any) -> str | None:
        edges = data["node"]["spans"]["edges"]
        return None if len(edges) == expected else f"{len(edges)} traces, not {expected}"

    return check


def _agenttrace_list_check(expected: int) -> Check:
    def check(data: Any) -> str | None:
        nodes = data["project"]["traces"]["nodes"]
        if len(nodes) != expected or any(node["status"] != "ERROR" for node in nodes):
            return f"not {expected} failed traces"
        return None

    return check


Variables = Callable[[int], Mapping[str, Any]]


def _rotating(project_key: str, project_id: str, trace_ids: Sequence[str]) -> Variables:
    """The i-th request opens ``trace_ids[i % len]``."""

    def variables(index: int) -> Mapping[str, Any]:
        return {project_key: project_id, "traceId": trace_ids[index % len(trace_ids)]}

    return variables


def _fixed(variables: Mapping[str, Any]) -> Variables:
    return lambda _: variables


def trace_detail(
    servers: Sequence[Server], size: int, trace_ids: Sequence[str], phoenix_query: str
) -> Figure:
    """Opening a trace of ``size`` spans, the i-th request on ``trace_ids[i % len]``."""
    reads = {}
    for server in servers:
        if isinstance(server, AgentTraceServer):
            reads[server.name] = Read(
                AGENTTRACE_TRACE_DETAIL,
                _rotating("projectId", server.project_id, trace_ids),
                _agenttrace_detail_check(size),
            )
        else:
            reads[server.name] = Read(
                phoenix_query,
                _rotating("id", server.project_id, trace_ids),
                _phoenix_detail_check(size),
            )
    return Figure(f"trace detail ({size:,} spans)", reads)


def error_list(servers: Sequence[Server], failed_traces: int) -> Figure:
    """The newest 50 failed traces, of ``failed_traces`` stored."""
    expected = min(50, failed_traces)
    reads = {}
    for server in servers:
        if isinstance(server, AgentTraceServer):
            reads[server.name] = Read(
                AGENTTRACE_ERROR_LIST, _fixed({}), _agenttrace_list_check(expected)
            )
        else:
            reads[server.name] = Read(
                PHOENIX_ERROR_LIST, _fixed({"id": server.project_id}), _phoenix_list_check(expected)
            )
    return Figure("failed traces, newest 50", reads)


@dataclass(slots=True)
class Latencies:
    """Milliseconds of each request, by figure name and server name."""

    ms: dict[tuple[str, str], list[float]] = field(default_factory=dict)


async def _timed(session: aiohttp.ClientSession, server: Server, read: Read, index: int) -> float:
    started = time.perf_counter()
    data = await server.graphql(session, read.query, read.variables(index))
    took = (time.perf_counter() - started) * 1000
    problem = read.check(data)
    if problem:
        raise RuntimeError(f"{server.name}: {problem}")
    return took


async def measure(
    servers: Sequence[Server],
    figures: Sequence[Figure],
    *,
    requests: int,
    rounds: int,
    warmup: int,
) -> Latencies:
    """``requests`` per figure and server, one at a time from one client, in ``rounds``
    slices: each round runs a slice of every figure on every server in turn, so drift
    on the shared machine falls on both alike. ``warmup`` unmeasured requests first."""
    result = Latencies()
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        for figure in figures:
            for server in servers:
                for index in range(warmup):
                    await _timed(session, server, figure.reads[server.name], index)
        for round_number in range(rounds):
            per_round = requests // rounds + (1 if round_number < requests % rounds else 0)
            for figure in figures:
                for server in servers:
                    read = figure.reads[server.name]
                    times = result.ms.setdefault((figure.name, server.name), [])
                    for _ in range(per_round):
                        times.append(await _timed(session, server, read, len(times)))
    return result
