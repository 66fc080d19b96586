"""The query benchmark: GraphQL and REST reads on a seeded project, each beside a ceiling.

    python -m bench.graphql                      # own throwaway PostgreSQL, 1,000,000 spans
    python -m bench.graphql --database-url URL   # reuses that database's seeded project
    python -m bench.graphql --spans 20000 --duration 1   # smoke run, about a minute

Seeds (or finds, by its name ``bench-graphql-<spans>``) one project holding ``--spans``
spans of default 10-span traces plus one 100-span and one 1,000-span trace, runs the real
API (``agenttrace api``) as a subprocess on it, and drives it over HTTP with aiohttp
clients at each ``--concurrency`` for ``--duration`` seconds per figure after
``--warmup`` seconds:

- uncached (an API without Redis): the trace-detail GraphQL query (the trace's fields
  and its flat span list) on the 100- and 1,000-span traces; two trace-list GraphQL
  queries (status ERROR; a model over the last 24 h), 50 a page; ``Project.analytics``
  (hourly time series, totals, groups by model) over every span (skipped, with a "not
  available" row, when the schema has no ``Project.analytics``); REST
  ``GET /api/v1/traces/{id}`` on the 1,000-span trace;
- cached (a second API with Redis, as deployed: its read cache on): the trace-detail
  query and the REST read on a default 10-span trace and on the 1,000-span trace, and the
  trace-detail query on the 100-span one (``--no-cached`` skips them).

Each figure's requests/s is given as a ratio to a ceiling measured beside it, at the same
concurrency, through the same server and client: ``{ __typename }`` for GraphQL,
``GET /healthz`` for REST. A figure's ``--duration`` is cut into ``--rounds`` slices, each
after an equal slice of its ceiling, so a machine whose speed drifts (a shared one) moves
both alike. Prints the table and rewrites the "Query: GraphQL and REST" section of
docs/benchmarks.md (``--no-write`` to skip).

The uncached API runs as ``agenttrace api`` without Redis, which caches nothing (its
workers would run elsewhere, so it could never learn of their writes). The cached one
reads through the Redis read cache (``--redis-url``, or a throwaway Redis the bench
starts), which also holds its rate limits.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import aiohttp
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.report import markdown_table, write_section
from bench.seed import project_id_for, seed
from bench.workload import DEFAULT_NOW_NS, Workload
from devservices._base import _die_with_parent
from storage.api_keys import create_api_key
from storage.database import to_async_url
from storage.migrate import upgrade_async

SECTION = "Query: GraphQL and REST"
ROOT = Path(__file__).resolve().parent.parent

BIG = Workload(seed=0)
"""The project's bulk: default 10-span traces over the 7 days before 2026-01-01."""
DETAIL_WORKLOADS = {
    100: Workload(seed=1, spans_per_trace=100),
    1_000: Workload(seed=2, spans_per_trace=1_000),
}
"""One trace of each size, for the detail queries, in the same project and window."""
DETAIL_SPANS = sum(DETAIL_WORKLOADS)

NOW = datetime.fromtimestamp(DEFAULT_NOW_NS / 1e9, UTC)
ANALYTICS_RANGE = (NOW - timedelta(days=8), NOW)
"""Every span: the traces start up to a trace's duration before the 7-day window."""
LIST_MODEL = "claude-3-5-haiku-20241022"
LIST_RANGE = (NOW - timedelta(hours=24), NOW)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


DETAIL_QUERY = """query TraceDetail($traceId: String!) {
  project {
    trace(traceId: $traceId) {
      traceId name status startTime endTime durationMs spanCount errorCount
      inputTokens outputTokens totalTokens cost userId sessionId environment tags
      spans {
        spanId parentSpanId name kind status startTime endTime durationMs depth
        model totalTokens cost
      }
    }
  }
}"""

_TRACE_ROW = (
    "traceId name status startTime endTime durationMs spanCount errorCount totalTokens"
    " cost userId sessionId tags"
)
LIST_ERROR_QUERY = (
    "query ErrorTraces { project { traces(filter: {status: [ERROR]}, first: 50) {"
    f" nodes {{ {_TRACE_ROW} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
)
LIST_MODEL_QUERY = (
    "query ModelTraces($start: DateTime!, $end: DateTime!) { project {"
    f' traces(filter: {{model: ["{LIST_MODEL}"], timeRange: {{start: $start, end: $end}}}},'
    f" first: 50) {{ nodes {{ {_TRACE_ROW} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
)
ANALYTICS_QUERY = """query Analytics($start: DateTime!, $end: DateTime!) {
  project {
    analytics(timeRange: {start: $start, end: $end}, bucket: HOUR) {
      buckets {
        start end traceCount errorTraceCount traceLatencyP50Ms traceLatencyP95Ms
        spanCount errorSpanCount errorRate totalTokens cost
      }
      totals {
        traceCount errorTraceCount traceErrorRate traceLatencyP50Ms traceLatencyP95Ms
        traceLatencyP99Ms spanCount errorSpanCount errorRate inputTokens outputTokens
        totalTokens cost
      }
      groups(by: MODEL) {
        key spanCount errorCount errorRate spanLatencyP50Ms spanLatencyP95Ms totalTokens cost
      }
    }
  }
}"""
CEILING_QUERY = "{ __typename }"
HAS_ANALYTICS_QUERY = '{ __type(name: "Project") { fields { name } } }'


@dataclass(frozen=True, slots=True)
class Options:
    spans: int = 1_000_000
    """Spans of 10-span traces in the project, beside the two detail traces."""
    duration_s: float = 3.0
    """Per figure (and as much again for its ceiling, in slices between the figure's)."""
    warmup_s: float = 0.5
    concurrency: tuple[int, ...] = (1, 8)
    min_requests: int = 10
    """Measure past ``duration_s`` until this many requests have completed."""
    rounds: int = 5
    """Each figure alternates with its ceiling in this many slices of its duration."""
    cached: bool = True
    """Also the cached figures, against a second API with Redis."""
    redis_url: str | None = None
    """The Redis the cached API reads through."""


DEFAULTS = Options()
SMOKE = Options(spans=20_000, duration_s=1.0, warmup_s=0.5)
"""``--spans 20000 --duration 1 --warmup 0.5``: every figure, well-formed, in a minute."""


@dataclass(frozen=True, slots=True)
class Dataset:
    project_id: uuid.UUID
    project: str
    api_key: str
    spans: int
    """Every span of the project: ``Options.spans`` plus the detail traces."""
    detail_trace_ids: dict[int, str]
    """Detail trace size -> its 32-hex-digit trace id (10: a default trace of the bulk)."""
    seeded_s: float | None
    """Seconds spent seeding now, or None when the project was already complete."""


def dataset_name(spans: int) -> str:
    return f"bench-graphql-{spans}"


async def _stored_spans(engine: AsyncEngine, project_id: uuid.UUID) -> int:
    async with engine.connect() as conn:
        total = await conn.scalar(
            text("SELECT COALESCE(sum(span_count), 0) FROM traces WHERE project_id = :p"),
            {"p": project_id},
        )
    return int(total or 0)


async def prepare(database_url: str, spans: int, *, progress: bool = True) -> Dataset:
    """Migrates the database and seeds the project ``bench-graphql-<spans>``, unless it
    already holds all its spans (an interrupted seeding is completed: seeding is an
    idempotent upsert). Then VACUUM ANALYZE, as autovacuum would have by then, and a new
    read-only API key for this run."""
    url = to_async_url(database_url)
    await upgrade_async(url)
    engine = create_async_engine(url, pool_size=1)
    name = dataset_name(spans)
    try:
        project_id, _ = await project_id_for(engine, name)
        total = spans + DETAIL_SPANS
        seeded_s = None
        if await _stored_spans(engine, project_id) != total:
            out = sys.stderr if progress else None
            started = time.perf_counter()
            await seed(engine, project_id, spans, workload=BIG, progress=out)
            for size, workload in DETAIL_WORKLOADS.items():
                await seed(engine, project_id, size, workload=workload, progress=out)
            seeded_s = time.perf_counter() - started
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM (ANALYZE) spans, traces"))
            stored = await _stored_spans(engine, project_id)
            if stored != total:
                raise RuntimeError(f"project {name!r} holds {stored:,} spans, not {total:,}")
        key = await create_api_key(engine, project_id, ["read"])
        if key is None:
            raise RuntimeError(f"project {name!r} vanished")
    finally:
        await engine.dispose()
    return Dataset(
        project_id=project_id,
        project=name,
        api_key=key.secret,
        spans=total,
        detail_trace_ids={
            10: BIG.trace(0).trace_id,
            **{size: w.trace(0).trace_id for size, w in DETAIL_WORKLOADS.items()},
        },
        seeded_s=seeded_s,
    )


async def server_settings(database_url: str) -> dict[str, str]:
    """The server's version and the settings that matter to these figures."""
    names = ("server_version", "fsync", "shared_buffers", "work_mem")
    engine = create_async_engine(to_async_url(database_url), pool_size=1)
    try:
        async with engine.connect() as conn:
            return {name: str(await conn.scalar(text(f"SHOW {name}"))) for name in names}
    finally:
        await engine.dispose()


def describe_server(settings: Mapping[str, str], started_here: bool) -> str:
    which = "a devservices PostgreSQL started by the bench" if started_here else "PostgreSQL"
    return (
        f"{which} {settings['server_version']} (fsync {settings['fsync']}, shared_buffers"
        f" {settings['shared_buffers']}, work_mem {settings['work_mem']})"
    )


# --- the server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Api:
    """A running ``agenttrace api``."""

    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User and system CPU time of the process so far, from /proc; NaN elsewhere."""
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def api_server(
    database_url: str, *, cached: bool = False, redis_url: str | None = None
) -> AsyncIterator[Api]:
    """``agenttrace api`` on a free loopback port, until the block ends. Uncached unless
    ``cached``: then through the Redis cache (and rate limits) at ``redis_url``."""
    if cached and redis_url is None:
        raise ValueError("a cached API needs a Redis URL: an API alone caches only in Redis")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTTRACE_")}
    env |= {
        "AGENTTRACE_DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        "XDG_RUNTIME_DIR": os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
    }
    if cached and redis_url is not None:
        env["AGENTTRACE_REDIS_URL"] = redis_url
    argv = [sys.executable, "-m", "agenttrace.cli", "api", "--host", "127.0.0.1"]
    argv += ["--port", str(port)]
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        proc = _spawn(argv, env, log)

        def output() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")[-4000:]

        try:
            await _wait_healthy(base_url, proc, output)
            yield Api(base_url, proc.pid)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            for _ in range(300):
                if proc.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                proc.kill()
                proc.wait()


def _spawn(argv: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """In its own process group (a terminal's Ctrl-C reaches only the bench, which stops
    it), and sent SIGTERM by Linux if the bench dies."""
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        process_group=0,
        preexec_fn=_die_with_parent(signal.SIGTERM),
    )


async def _wait_healthy(
    base_url: str, proc: subprocess.Popen[bytes], output: Callable[[], str]
) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"agenttrace api exited ({proc.returncode}):\n{output()}")
            try:
                async with session.get(f"{base_url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"agenttrace api did not become healthy:\n{output()}")
            await asyncio.sleep(0.1)


# --- the load -----------------------------------------------------------------------


Check = Callable[[Any], str | None]
"""Looks at a decoded response once, before the measurement: a problem, or None."""


@dataclass(frozen=True, slots=True)
class Call:
    """One request, sent again and again."""

    label: str
    method: str
    path: str
    body: bytes | None = None
    check: Check | None = None

    @classmethod
    def graphql(
        cls,
        label: str,
        query: str,
        variables: Mapping[str, Any] | None = None,
        check: Check | None = None,
    ) -> Call:
        body = orjson.dumps({"query": query, "variables": dict(variables or {})})
        return cls(label, "POST", "/graphql", body, check)


@dataclass(frozen=True, slots=True)
class Timing:
    latencies_s: list[float]
    """Sorted."""
    seconds: float
    errors: int = 0
    first_error: str | None = None
    api_cpu_s: float = math.nan
    """CPU time the API process spent meanwhile (its own threads: not PostgreSQL's)."""

    @property
    def requests(self) -> int:
        return len(self.latencies_s)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        """Nearest rank; NaN without requests."""
        if not self.latencies_s:
            return math.nan
        rank = min(len(self.latencies_s), max(1, math.ceil(q * len(self.latencies_s))))
        return self.latencies_s[rank - 1] * 1000


def _graphql_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return f"not a GraphQL response: {payload!r:.200}"
    if payload.get("errors"):
        return f"GraphQL errors: {orjson.dumps(payload['errors']).decode():.500}"
    if payload.get("data") is None:
        return "GraphQL response without data"
    return None


async def _send(
    session: aiohttp.ClientSession, base_url: str, call: Call, headers: Mapping[str, str]
) -> tuple[int, bytes]:
    async with session.request(
        call.method, base_url + call.path, data=call.body, headers=headers
    ) as response:
        return response.status, await response.read()


async def drive(
    session: aiohttp.ClientSession,
    base_url: str,
    call: Call,
    headers: Mapping[str, str],
    *,
    clients: int,
    seconds: float,
    min_requests: int = 0,
) -> Timing:
    """``clients`` loops sending ``call`` back to back for ``seconds`` (and until
    ``min_requests`` have completed). Any status but 200, or a GraphQL error, counts as
    an error, not a latency."""
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    deadline = started + seconds
    sent = 0
    graphql = call.path == "/graphql"

    async def client() -> None:
        nonlocal sent
        while time.perf_counter() < deadline or sent < min_requests:
            sent += 1
            t0 = time.perf_counter()
            try:
                status, body = await _send(session, base_url, call, headers)
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors.append(f"{exc.__class__.__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - t0
            if status != 200:
                errors.append(f"HTTP {status}: {body[:300].decode(errors='replace')}")
            elif graphql and b'"errors":[' in body:
                errors.append(f"GraphQL errors: {body[:500].decode(errors='replace')}")
            else:
                latencies.append(elapsed)

    await asyncio.gather(*(client() for _ in range(clients)))
    return Timing(
        sorted(latencies),
        time.perf_counter() - started,
        len(errors),
        errors[0] if errors else None,
    )


# --- the figures --------------------------------------------------------------------


def _detail_check(size: int) -> Check:
    def check(payload: Any) -> str | None:
        trace = payload["data"]["project"]["trace"]
        if trace is None:
            return "trace not found"
        if len(trace["spans"]) != size or trace["spanCount"] != size:
            return f"{len(trace['spans'])} spans, not {size}"
        return None

    return check


def _list_check(payload: Any) -> str | None:
    connection = payload["data"]["project"]["traces"]
    if not connection["nodes"]:
        return "no traces matched"
    return None


def _analytics_check(total: int) -> Check:
    def check(payload: Any) -> str | None:
        analytics = payload["data"]["project"]["analytics"]
        counted = analytics["totals"]["spanCount"]
        if counted != total:
            return f"totals.spanCount is {counted:,}, not {total:,}"
        if not analytics["buckets"] or not analytics["groups"]:
            return "no buckets or no groups"
        return None

    return check


def _rest_detail_check(size: int) -> Check:
    def check(payload: Any) -> str | None:
        spans = payload.get("spans") if isinstance(payload, dict) else None
        return None if isinstance(spans, list) and len(spans) == size else "wrong span list"

    return check


def detail_call(dataset: Dataset, size: int, *, cached: bool = False) -> Call:
    return Call.graphql(
        f"GraphQL trace detail ({size:,} spans), " + ("cached" if cached else "uncached"),
        DETAIL_QUERY,
        {"traceId": dataset.detail_trace_ids[size]},
        _detail_check(size),
    )


def graphql_calls(dataset: Dataset) -> list[Call]:
    calls = [detail_call(dataset, size) for size in sorted(DETAIL_WORKLOADS)]
    calls.append(
        Call.graphql(
            "GraphQL trace list: status ERROR, first 50", LIST_ERROR_QUERY, None, _list_check
        )
    )
    calls.append(
        Call.graphql(
            f"GraphQL trace list: model {LIST_MODEL}, last 24 h, first 50",
            LIST_MODEL_QUERY,
            {"start": _iso(LIST_RANGE[0]), "end": _iso(LIST_RANGE[1])},
            _list_check,
        )
    )
    return calls


def analytics_call(dataset: Dataset) -> Call:
    return Call.graphql(
        f"GraphQL analytics: {dataset.spans:,} spans, 8 days hourly, totals, groups by model",
        ANALYTICS_QUERY,
        {"start": _iso(ANALYTICS_RANGE[0]), "end": _iso(ANALYTICS_RANGE[1])},
        _analytics_check(dataset.spans),
    )


def rest_call(dataset: Dataset, size: int = 1_000, *, cached: bool = False) -> Call:
    trace_id = dataset.detail_trace_ids[size]
    label = f"REST GET /api/v1/traces/{{id}} ({size:,} spans), " + (
        "cached" if cached else "uncached"
    )
    return Call(label, "GET", f"/api/v1/traces/{trace_id}", None, _rest_detail_check(size))


def cached_calls(dataset: Dataset) -> list[Call]:
    """The cached API's figures: every answer after the first (per TTL) is a hit."""
    return [
        detail_call(dataset, 10, cached=True),
        detail_call(dataset, 100, cached=True),
        detail_call(dataset, 1_000, cached=True),
        rest_call(dataset, 10, cached=True),
        rest_call(dataset, 1_000, cached=True),
    ]


GRAPHQL_CEILING = Call.graphql("ceiling: GraphQL { __typename }", CEILING_QUERY)
REST_CEILING = Call("ceiling: REST GET /healthz", "GET", "/healthz")
CACHED_GRAPHQL_CEILING = Call.graphql(
    "ceiling: GraphQL { __typename }, API with Redis", CEILING_QUERY
)
CACHED_REST_CEILING = Call("ceiling: REST GET /healthz, API with Redis", "GET", "/healthz")


async def has_analytics(
    session: aiohttp.ClientSession, base_url: str, headers: Mapping[str, str]
) -> bool:
    """Whether the running API's schema has ``Project.analytics``."""
    status, body = await _send(
        session, base_url, Call.graphql("introspection", HAS_ANALYTICS_QUERY), headers
    )
    if status != 200:
        return False
    found = orjson.loads(body).get("data") or {}
    fields = ((found.get("__type") or {}).get("fields")) or []
    return any(f.get("name") == "analytics" for f in fields)


@dataclass(slots=True)
class Result:
    rows: list[dict[str, Any]]
    dataset: Dataset
    analytics_available: bool
    ceiling_range: dict[str, tuple[float, float]] = field(default_factory=dict)
    """"<ceiling label>, <n> clients" -> the lowest and highest req/s it had beside one
    figure: how much the machine drifted during the run."""
    load_average: tuple[float, float] = (0.0, 0.0)
    """1-minute load average at the start and at the end."""


def _clients(count: int) -> str:
    return f"{count} client" + ("s" if count != 1 else "")


def merged(parts: Sequence[Timing]) -> Timing:
    """Several measurements of one request as one: every latency, the total time."""
    errors = [p.first_error for p in parts if p.first_error]
    return Timing(
        sorted(x for p in parts for x in p.latencies_s),
        sum(p.seconds for p in parts),
        sum(p.errors for p in parts),
        errors[0] if errors else None,
        sum(p.api_cpu_s for p in parts),
    )


def _row(
    label: str,
    clients: int,
    timing: Timing | None,
    ceiling: float | None,
    size: int | None,
    note: str | None = None,
) -> dict[str, Any]:
    row: dict[str, Any] = {"figure": label, "clients": clients}
    measured = timing is not None and timing.requests > 0
    rate = timing.per_second if timing is not None and measured else None
    cpu = timing.api_cpu_s if timing is not None and measured else math.nan
    row |= {
        "requests": timing.requests if timing is not None else 0,
        "p50 ms": timing.percentile_ms(0.50) if timing is not None and measured else None,
        "p95 ms": timing.percentile_ms(0.95) if timing is not None and measured else None,
        "req/s": rate,
        "ceiling req/s": ceiling,
        "ratio": rate / ceiling if rate is not None and ceiling else None,
        "API CPU ms/req": cpu * 1000 / timing.requests if timing and math.isfinite(cpu) else None,
        "response bytes": size,
    }
    if timing is not None and timing.errors:
        note = f"{timing.errors} errors, first: {timing.first_error}"
    row["note"] = note or ""
    return row


class _Bench:
    """One run's client side: a session on one API, the key, the options."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api: Api,
        headers: Mapping[str, str],
        options: Options,
        progress: bool,
    ) -> None:
        self.session = session
        self.api = api
        self.base_url = api.base_url
        self.headers = headers
        self.options = options
        self.progress = progress
        self.sizes: dict[str, int] = {}
        """Response bytes of each probed call."""

    def say(self, message: str) -> None:
        if self.progress:
            print(message, file=sys.stderr, flush=True)

    async def probe(self, call: Call) -> str | None:
        status, body = await _send(self.session, self.base_url, call, self.headers)
        self.sizes[call.label] = len(body)
        problem = problem_of(call, status, body)
        if problem:
            self.say(f"{call.label}: {problem}")
        return problem

    async def _drive(self, call: Call, clients: int, seconds: float, least: int = 0) -> Timing:
        cpu = self.api.cpu_seconds()
        timing = await drive(
            self.session,
            self.base_url,
            call,
            self.headers,
            clients=clients,
            seconds=seconds,
            min_requests=least,
        )
        return dataclasses.replace(timing, api_cpu_s=self.api.cpu_seconds() - cpu)

    async def paired(self, call: Call, ceiling: Call, clients: int) -> tuple[Timing, Timing]:
        """``call`` and its ceiling in alternating slices (``Options.rounds`` of each,
        ceiling first), after a warm-up of each: a drift of the machine's speed during
        the measurement touches both alike. Returns (call, ceiling)."""
        options = self.options
        await self._drive(ceiling, clients, min(options.warmup_s, 0.5))
        await self._drive(call, clients, options.warmup_s)
        piece = options.duration_s / options.rounds
        least = math.ceil(options.min_requests / options.rounds)
        parts: tuple[list[Timing], list[Timing]] = ([], [])
        for _ in range(options.rounds):
            parts[1].append(await self._drive(ceiling, clients, piece))
            parts[0].append(await self._drive(call, clients, piece, least))
        timing, ceiling_timing = merged(parts[0]), merged(parts[1])
        self.say(
            f"  {call.label}, {clients} clients: {timing.per_second:,.1f} req/s"
            f" (ceiling {ceiling_timing.per_second:,.0f}), p50 {timing.percentile_ms(0.5):.2f}"
            f" ms, p95 {timing.percentile_ms(0.95):.2f} ms"
            + (f", {timing.errors} errors" if timing.errors else "")
        )
        return timing, ceiling_timing


def problem_of(call: Call, status: int, body: bytes) -> str | None:
    """What is wrong with one answer to ``call``, checked in full: a problem, or None."""
    if status != 200:
        return f"HTTP {status}: {body[:300].decode(errors='replace')}"
    try:
        payload = orjson.loads(body)
        if call.path == "/graphql" and (problem := _graphql_problem(payload)):
            return problem
        return call.check(payload) if call.check else None
    except (orjson.JSONDecodeError, LookupError, TypeError) as exc:
        return f"unexpected answer ({exc.__class__.__name__}: {exc}): {body[:300]!r}"


async def run(database_url: str, options: Options, *, progress: bool = True) -> Result:
    """Seeds (or reuses) the dataset, starts the APIs and measures every figure."""
    dataset = await prepare(database_url, options.spans, progress=progress)
    headers = {
        "Authorization": f"Bearer {dataset.api_key}",
        "Content-Type": "application/json",
    }
    rows: list[dict[str, Any]] = []
    ranges: dict[str, tuple[float, float]] = {}
    load_start = os.getloadavg()[0]
    timeout = aiohttp.ClientTimeout(total=120)
    async with (
        api_server(database_url) as api,
        aiohttp.ClientSession(timeout=timeout) as session,
    ):
        bench = _Bench(session, api, headers, options, progress)
        bench.say(
            f"project {dataset.project!r}: {dataset.spans:,} spans"
            + (f", seeded in {dataset.seeded_s:.0f} s" if dataset.seeded_s else ", already seeded")
        )
        available = await has_analytics(session, api.base_url, headers)
        calls = [
            *graphql_calls(dataset),
            *([analytics_call(dataset)] if available else []),
            rest_call(dataset),
        ]
        measured = await _measure(bench, calls, (GRAPHQL_CEILING, REST_CEILING), ranges)
        for clients in options.concurrency:
            rows += measured[clients]
            if not available:
                note = "not available: this API's schema has no Project.analytics"
                rows.append(_row("GraphQL analytics", clients, None, None, None, note))
    if options.cached:
        if options.redis_url is None:
            raise ValueError("the cached figures need a Redis URL (Options.redis_url)")
        async with (
            api_server(database_url, cached=True, redis_url=options.redis_url) as api,
            aiohttp.ClientSession(timeout=timeout) as session,
        ):
            bench = _Bench(session, api, headers, options, progress)
            ceilings = (CACHED_GRAPHQL_CEILING, CACHED_REST_CEILING)
            measured = await _measure(bench, cached_calls(dataset), ceilings, ranges)
            for clients in options.concurrency:
                rows += measured[clients]
    return Result(rows, dataset, available, ranges, (load_start, os.getloadavg()[0]))


async def _measure(
    bench: _Bench,
    calls: Sequence[Call],
    ceilings: tuple[Call, Call],
    ranges: dict[str, tuple[float, float]],
) -> dict[int, list[dict[str, Any]]]:
    """Each call beside its ceiling (``ceilings``: GraphQL's, REST's) at each concurrency:
    the ceilings' rows (pooled) first, then the calls'. Adds each ceiling's range of rates
    beside single figures to ``ranges``."""
    problems = {c.label: await bench.probe(c) for c in [*ceilings, *calls]}
    by_clients: dict[int, list[dict[str, Any]]] = {}
    for clients in bench.options.concurrency:
        beside: dict[str, list[Timing]] = {c.label: [] for c in ceilings}
        figures: list[tuple[Call, Timing | None, float | None]] = []
        for call in calls:
            ceiling = ceilings[1] if call.method == "GET" else ceilings[0]
            if problems[call.label]:
                figures.append((call, None, None))
                continue
            timing, ceiling_timing = await bench.paired(call, ceiling, clients)
            beside[ceiling.label].append(ceiling_timing)
            figures.append((call, timing, ceiling_timing.per_second))
        rows = []
        for ceiling in ceilings:
            timings = beside[ceiling.label]
            if timings:
                rates = [t.per_second for t in timings]
                key = f"{ceiling.label.removeprefix('ceiling: ')} at {_clients(clients)}"
                ranges[key] = (min(rates), max(rates))
            rows.append(
                _row(
                    ceiling.label,
                    clients,
                    merged(timings) if timings else None,
                    None,
                    bench.sizes[ceiling.label],
                    problems[ceiling.label],
                )
            )
        for call, measured, ceiling_rate in figures:
            size = bench.sizes[call.label]
            rows.append(
                _row(call.label, clients, measured, ceiling_rate, size, problems[call.label])
            )
        by_clients[clients] = rows
    return by_clients


# --- the report ---------------------------------------------------------------------


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run, without the database's address."""
    parts = ["python", "-m", "bench.graphql"]
    if args.database_url:
        parts += ["--database-url", '"$AGENTTRACE_DATABASE_URL"']
    defaults = _parser().parse_args([])
    for name in ("spans", "duration", "warmup", "concurrency", "min_requests", "rounds"):
        value = getattr(args, name)
        if value != getattr(defaults, name):
            parts += [f"--{name.replace('_', '-')}", str(value)]
    if not args.cached:
        parts.append("--no-cached")
    return " ".join(p if p.startswith('"$') else shlex.quote(p) for p in parts)


CACHED_NOTE = (
    "Cached: the API with Redis keeps `GET /api/v1/traces/{id}`'s body (30 s) and, for"
    " GraphQL, the answer of a query that reads only one trace's own data (30 s, per"
    " document, variables and project: graph/response_cache.py), both invalidated by the"
    " storage worker's writes without a race (cache/store.py). A hit still authenticates,"
    " checks the project, validates the document (cached) and charges the caller's"
    " GraphQL cost budget in Redis. After the warm-up nearly every request is a hit."
)
BEFORE_AND_AFTER = (
    "**Before and after** cutting GraphQL's per-request work (parse and validation cached"
    " per document, with the depth and alias limiters' rules made once so that the"
    " validation cache can hit; the query cost remembered per document; the twelve"
    " dataloaders made on first use; `Span.depth` not async in a trace's span list, which"
    " made a task of every span; orjson for GraphQL's JSON) and adding the GraphQL response"
    " cache, in API CPU ms per request, from two back-to-back runs of `--spans 20000"
    " --duration 3 --warmup 0.5 --concurrency 1` (the tree without, then with, these"
    " changes) on a machine other benches were loading (1-minute load average 8 to 15, so"
    " their req/s say little): `{ __typename }` 2.55 before, 0.95 after (2.74 and 1.27 on"
    " the API with Redis, whose rate limits are in Redis); trace detail uncached, 100"
    " spans 21.8 and 11.7, 1,000 spans 152 and 82; trace list (status ERROR) 20.6 and 9.5;"
    " trace detail on the API with Redis, which executed every time before and is a cache"
    " hit after: 10 spans 10.3 and 1.7, 100 spans 20.3 and 2.0, 1,000 spans 143 and 2.1."
    " `GET /healthz` costs 0.18 and the cached REST read of a 10-span trace 0.4: what is"
    " left of `{ __typename }` is spread over strawberry's extension hooks, the cost"
    " budget's rate limiter, FastAPI's dependencies and the middleware (py-spy)."
    " Earlier, reading a trace's spans in outline (commit 2715a4a) took the 100-span detail"
    " from 59.8 to 80.2 req/s and the 1,000-span one from 8.28 to 10.8 req/s."
)


def seed_figure(rows: Sequence[dict[str, Any]]) -> str:
    """The seed's query figure (1,000 requests/s per API process) for cached trace reads:
    the best rate of each cached 10-span read, with its ceiling beside it."""
    parts = []
    for what, label in (
        ("GraphQL", "GraphQL trace detail (10 spans), cached"),
        ("REST", "REST GET /api/v1/traces/{id} (10 spans), cached"),
    ):
        measured = [r for r in rows if r["figure"] == label and r["req/s"] is not None]
        if not measured:
            continue
        best = max(measured, key=lambda r: r["req/s"])
        parts.append(
            f"{what} {best['req/s']:,.0f} req/s at {_clients(best['clients'])} (its ceiling"
            f" {best['ceiling req/s']:,.0f})"
        )
    if not parts:
        return "The seed's figure: not measured (no cached 10-span read answered)."
    return (
        "**The seed's figure**, cached reads of a default 10-span trace per API process"
        " (target: at least 1,000 req/s): " + "; ".join(parts) + "."
    )


def notes(result: Result, options: Options, command: str, database: str) -> str:
    dataset = result.dataset
    concurrency = " and ".join(str(c) for c in options.concurrency)
    ranges = "; ".join(
        f"{label}: {low:,.0f}" + (f"-{high:,.0f}" if round(high) != round(low) else "") + " req/s"
        for label, (low, high) in sorted(result.ceiling_range.items())
    )
    lines = [
        f"Dataset: one project of {dataset.spans:,} spans ({options.spans:,} in"
        f" {BIG.trace_count(options.spans):,} default 10-span traces, plus one 100-span and"
        " one 1,000-span trace), `otlp` shape, start times over the 7 days before"
        f" {_iso(NOW)}, written through `store_spans` by bench/seed.py, then"
        f" `VACUUM (ANALYZE)`; {database}.",
        "",
        "Method: `agenttrace api` (uvicorn, one process) as a subprocess, uncached (an API"
        " of a split deployment without Redis: NullCache)"
        + (
            "; then a second one with Redis (`AGENTTRACE_REDIS_URL`: read cache and rate"
            " limits in Redis, as deployed) for the cached figures, whose ceilings are"
            " measured on that API too"
            if options.cached
            else ""
        )
        + "; aiohttp clients in the bench's"
        f" process, each sending one request after another, {concurrency} at a time."
        f" Per figure: {options.warmup_s:g} s of warm-up, then {options.duration_s:g} s"
        f" (at least {options.min_requests} requests) in {options.rounds} slices, each"
        " after an equal slice of its ceiling. The client, the API and PostgreSQL share"
        " the machine's CPUs.",
        "",
        "**ratio** = the figure's req/s over its own ceiling's, measured in the slices"
        " between the figure's, through the same server and client: `{ __typename }`"
        " (POST /graphql, same API key) for GraphQL, `GET /healthz` for REST. The ceiling"
        " rows pool all those slices. Beside single figures the ceilings ranged"
        f" {ranges}. 1-minute load average {result.load_average[0]:.1f} at the start,"
        f" {result.load_average[1]:.1f} at the end. **API CPU ms/req**: the API process's"
        " CPU time (user and system, from /proc) over the figure's requests: what a request"
        " costs the API whatever else loads the machine.",
        "",
        "Queries: trace detail = the trace's fields and `spans { spanId parentSpanId name"
        " kind status startTime endTime durationMs depth model totalTokens cost }`; trace"
        " lists = `project { traces(filter: ..., first: 50) { nodes {...} pageInfo {...}"
        " } }`; analytics = `analytics(timeRange: 8 days, bucket: HOUR) { buckets {...}"
        " totals {...} groups(by: MODEL) {...} }` over every span of the project; REST ="
        " `GET /api/v1/traces/{id}` (every span with its payloads). The 10-span trace is"
        " one of the bulk's. The exact queries are in bench/graphql.py.",
    ]
    if options.cached:
        lines += ["", CACHED_NOTE, "", seed_figure(result.rows)]
    lines += ["", BEFORE_AND_AFTER]
    if not result.analytics_available:
        lines += ["", "Analytics: not available, the API's schema has no `Project.analytics`."]
    if not options.cached:
        lines += ["", "Uncached only (`--no-cached`)."]
    lines += ["", "```bash", command, "```"]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.graphql",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL to seed into or reuse (default: start a throwaway one)",
    )
    parser.add_argument("--spans", type=int, default=DEFAULTS.spans)
    parser.add_argument("--duration", type=float, default=DEFAULTS.duration_s, help="seconds")
    parser.add_argument("--warmup", type=float, default=DEFAULTS.warmup_s, help="seconds")
    parser.add_argument(
        "--concurrency",
        default=",".join(map(str, DEFAULTS.concurrency)),
        help="clients at a time, comma-separated (default 1,8)",
    )
    parser.add_argument("--min-requests", type=int, default=DEFAULTS.min_requests)
    parser.add_argument(
        "--rounds",
        type=int,
        default=DEFAULTS.rounds,
        help="slices a figure's duration is cut into, each after a slice of its ceiling",
    )
    parser.add_argument(
        "--no-cached",
        dest="cached",
        action="store_false",
        help="skip the cached figures (the second API, with Redis)",
    )
    parser.add_argument(
        "--redis-url", help="Redis for the cached API (default: start a throwaway one)"
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return parser


def options_of(args: argparse.Namespace) -> Options:
    concurrency = tuple(int(c) for c in str(args.concurrency).split(",") if c.strip())
    if args.spans < 1 or args.duration <= 0 or args.warmup < 0 or args.rounds < 1:
        raise SystemExit("error: --spans, --duration and --rounds must be positive")
    if not concurrency:
        raise SystemExit("error: --concurrency needs at least one number")
    if any(c < 1 for c in concurrency):
        raise SystemExit("error: --concurrency values must be at least 1")
    return Options(
        spans=args.spans,
        duration_s=args.duration,
        warmup_s=args.warmup,
        concurrency=concurrency,
        min_requests=args.min_requests,
        rounds=args.rounds,
        cached=args.cached,
        redis_url=args.redis_url,
    )


def shown_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as printed and written: without the note column when no row has one."""
    shown = [dict(row) for row in rows]
    if not any(row.get("note") for row in shown):
        for row in shown:
            row.pop("note", None)
    return shown


async def _main(args: argparse.Namespace, database_url: str, started_here: bool) -> None:
    options = options_of(args)
    settings = await server_settings(database_url)
    result = await run(database_url, options)
    print(markdown_table(shown_rows(result.rows)))
    if not args.no_write:
        path = write_section(
            SECTION,
            shown_rows(result.rows),
            notes(result, options, command_line(args), describe_server(settings, started_here)),
            versions={"PostgreSQL": settings["server_version"], "Kafka": None},
        )
        print(f"wrote the {SECTION!r} section of {path.relative_to(ROOT)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    options_of(args)  # validate before starting anything
    from devservices import DevServices

    needs_redis = args.cached and not args.redis_url
    needs_postgres = not args.database_url
    if not (needs_redis or needs_postgres):
        asyncio.run(_main(args, args.database_url, started_here=False))
        return
    with DevServices(kafka=False, redis=needs_redis, postgres=needs_postgres) as services:
        if needs_redis:
            args.redis_url = services.redis_url
        database_url = args.database_url or services.database_url
        asyncio.run(_main(args, database_url, started_here=needs_postgres))


if __name__ == "__main__":
    main()
