"""The live benchmark: from a client's POST to ingest to a GraphQL subscriber's receipt.

    python -m bench.live                           # both modes, 100, 1,000 and 5,000 spans/s
    python -m bench.live --mode embedded --smoke   # a few seconds of each load, no write

For each mode, the real processes on loopback:

- ``embedded``: ``agenttrace serve`` on a fresh ``--data-dir`` (embedded PostgreSQL, the
  in-process bus and fan-out); its first start prints the API key;
- ``distributed``: devservices Kafka, Redis and PostgreSQL, ``agenttrace migrate``,
  ``agenttrace project create NAME --json``, one ``ingest``, one ``worker`` and two
  ``api`` replicas; the sender posts to ingest, a subscriber listens on each replica.

Each subscriber runs ``subscription { traceUpdates { traceId spanCount } }`` for the
project over graphql-transport-ws (gql's WebsocketsTransport). At each offered load
(``--rates``, in spans/s, of 10-span traces from bench.workload: 100 spans/s is one trace
every 0.1 s) an open-loop sender POSTs one native JSON batch (one trace) at each tick,
whatever the earlier POSTs are doing: ``--warmup`` seconds that are not counted, then
``--traces`` measured traces. A trace's latency is from the start of its POST to the
first ``traceUpdates`` event of that trace whose ``spanCount`` is every span sent; a trace
that has not arrived ``--timeout`` seconds after the last send is lost.

The ceiling (the network and HTTP floor) is measured beside it: between every two trace
POSTs, half an interval after the first, a ``GET /healthz`` to the same server through the
same client, so at the same rate and under the same load. Each row's ratio is its p50
over that ceiling's p50.

Prints the table and rewrites the "Live: ingest to subscriber" section of
docs/benchmarks.md (not with ``--smoke`` or ``--no-write``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import aiohttp
import orjson
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from agenttrace.settings import Settings
from bench.plots import latency_cdf_plot
from bench.processes import BenchProcess, child_env, free_port, log_directory
from bench.report import kafka_version, markdown_table, write_section
from bench.workload import Workload, native_bytes
from devservices import DevServices
from storage.database import to_async_url

SECTION = "Live: ingest to subscriber"
ROOT = Path(__file__).resolve().parent.parent
AGENTTRACE = [sys.executable, "-m", "agenttrace.cli"]
API_KEY = re.compile(r"\bat_[A-Za-z0-9_-]{20,}")
SUBSCRIPTION = "subscription LiveBench { traceUpdates { traceId spanCount } }"

Mode = Literal["embedded", "distributed"]
MODES: tuple[Mode, ...] = ("embedded", "distributed")

MEASURED = Workload(seed=11)
"""The measured and warm-up traces (``now_ns`` replaced by the run's start)."""
PROBES = Workload(seed=12)
"""The traces that show every subscription is live, before any load."""


@dataclass(frozen=True, slots=True)
class Options:
    modes: tuple[Mode, ...] = MODES
    rates: tuple[int, ...] = (100, 1_000, 5_000)
    """Offered loads, in spans/s."""
    traces: int = 400
    """Measured traces per load (400: p99 lies between the 5th and the 4th slowest)."""
    warmup_s: float = 3.0
    """Traces sent at the load's rate before the measured ones, not counted."""
    timeout_s: float = 30.0
    """After the last send: a trace not arrived by then is lost."""
    spans_per_trace: int = 10
    env: tuple[tuple[str, str], ...] = ()
    """Settings for every agenttrace process started (``AGENTTRACE_KAFKA_LINGER_MS=0``...)."""


DEFAULTS = Options()
SMOKE = Options(traces=20, warmup_s=0.5, timeout_s=30.0)


# --- the processes --------------------------------------------------------------------


class Child(BenchProcess):
    """One ``agenttrace`` process started by the bench."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        super().__init__(f"agenttrace {name}", [*AGENTTRACE, *args], env, log_dir)


def run_cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [*AGENTTRACE, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"agenttrace {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return done.stdout


@dataclass(frozen=True, slots=True)
class Target:
    """A running deployment: where to send, where to subscribe, where its database is."""

    mode: Mode
    ingest_url: str
    api_key: str
    subscribers: tuple[tuple[str, str], ...]
    """(label, WebSocket URL of /graphql)."""
    database_url: str
    """Its PostgreSQL (SQLAlchemy asyncpg URL), to read when the worker stored each trace."""


def _embedded_database(data_dir: Path) -> str:
    """The embedded PostgreSQL's socket, from its postmaster.pid (port, socket directory)."""
    lines = (data_dir / "postgres" / "postmaster.pid").read_text().splitlines()
    return f"postgresql+asyncpg://postgres@/agenttrace?host={lines[4]}&port={int(lines[3])}"


def _stop_leftover_postgres(data_dir: Path) -> None:
    """``serve`` stops its embedded PostgreSQL on exit; if it was killed, this does (a fast
    shutdown of the postmaster the bench's ``serve`` started, by its pid)."""
    pid_file = data_dir / "postgres" / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGINT)
    except (OSError, ValueError, IndexError):
        return
    for _ in range(200):
        if not pid_file.exists():
            return
        time.sleep(0.05)


@asynccontextmanager
async def embedded(log_dir: Path, settings: dict[str, str]) -> AsyncIterator[Target]:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-live-serve-"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), "--data-dir", str(data_dir)]
    serve = Child("serve", args, child_env(settings), log_dir)
    try:
        await serve.wait_healthy(base_url, timeout_s=180)
        key = await serve.wait_output(API_KEY)
        ws = base_url.replace("http://", "ws://") + "/graphql"
        yield Target("embedded", base_url, key, (("serve", ws),), _embedded_database(data_dir))
    finally:
        await serve.stop()
        _stop_leftover_postgres(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@asynccontextmanager
async def distributed(
    services: DevServices, log_dir: Path, settings: dict[str, str]
) -> AsyncIterator[Target]:
    env = child_env(services.env | settings)
    run_cli(["migrate"], env)
    created = orjson.loads(
        run_cli(["project", "create", f"bench-live-{time.time_ns()}", "--json"], env)
    )
    async with AsyncExitStack() as stack:

        def start(name: str, args: list[str]) -> Child:
            child = Child(name, args, env, log_dir)
            stack.push_async_callback(child.stop)
            return child

        ports = {name: free_port() for name in ("ingest", "api-1", "api-2")}
        servers = {
            name: start(name, [name.split("-")[0], "--port", str(port)])
            for name, port in ports.items()
        }
        start("worker", ["worker"])
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, server in servers.items():
            await server.wait_healthy(urls[name])
        yield Target(
            "distributed",
            urls["ingest"],
            created["api_key"],
            tuple(
                (f"api {n}", urls[f"api-{n}"].replace("http://", "ws://") + "/graphql")
                for n in (1, 2)
            ),
            to_async_url(services.database_url),
        )


# --- the subscribers ------------------------------------------------------------------


class Subscriber:
    """One ``traceUpdates`` subscription: when each trace was first seen, and when first
    seen with all its spans (``expected``, shared with the sender)."""

    def __init__(self, label: str, url: str, api_key: str, expected: dict[str, int]) -> None:
        self.label = label
        self.url = url
        self.api_key = api_key
        self.expected = expected
        self.first: dict[str, float] = {}
        self.complete: dict[str, float] = {}
        self.events = 0
        self.task: asyncio.Task[None] | None = None

    async def _collect(self) -> None:
        transport = WebsocketsTransport(
            url=self.url,
            init_payload={"Authorization": f"Bearer {self.api_key}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            async for result in session.subscribe(GraphQLRequest(SUBSCRIPTION)):
                arrived = time.monotonic()
                update = result["traceUpdates"]
                trace_id = update["traceId"]
                self.events += 1
                self.first.setdefault(trace_id, arrived)
                wanted = self.expected.get(trace_id)
                if wanted is not None and update["spanCount"] >= wanted:
                    self.complete.setdefault(trace_id, arrived)
        raise RuntimeError(f"the subscription on {self.label} ended")

    def start(self) -> None:
        self.task = asyncio.create_task(self._collect(), name=f"subscriber {self.label}")

    def check(self) -> None:
        """Raises what ended the subscription, if it ended."""
        if self.task is not None and self.task.done():
            self.task.result()
            raise RuntimeError(f"the subscription on {self.label} ended")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def _until_arrived(
    subscribers: Sequence[Subscriber], trace_ids: Sequence[str], timeout_s: float
) -> bool:
    """Waits until every subscriber has every trace complete; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        for subscriber in subscribers:
            subscriber.check()
        if all(t in s.complete for s in subscribers for t in trace_ids):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)


# --- the load -------------------------------------------------------------------------


@dataclass(slots=True)
class Sent:
    trace_id: str
    due: float
    """When the schedule said to send it (monotonic)."""
    start: float = math.nan
    """When its POST started (monotonic); the latency's origin."""
    start_wall: float = math.nan
    """The same moment by the wall clock (time.time()), to compare with PostgreSQL's."""
    end: float = math.nan
    """When the POST's response was read."""
    status: int | str = 0


@dataclass(slots=True)
class Probe:
    start: float = math.nan
    end: float = math.nan
    status: int | str = 0


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def _post(
    session: aiohttp.ClientSession, url: str, key: str, body: bytes, sent: Sent
) -> None:
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    sent.start, sent.start_wall = time.monotonic(), time.time()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            sent.status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        sent.status = repr(exc)
    sent.end = time.monotonic()


async def _probe(session: aiohttp.ClientSession, url: str, probe: Probe) -> None:
    probe.start = time.monotonic()
    try:
        async with session.get(url) as response:
            await response.read()
            probe.status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        probe.status = repr(exc)
    probe.end = time.monotonic()


async def offered_load(
    session: aiohttp.ClientSession,
    target: Target,
    bodies: Sequence[tuple[str, bytes]],
    interval_s: float,
) -> tuple[list[Sent], list[Probe]]:
    """Open loop: trace ``i`` is POSTed at ``start + i * interval_s`` and a ``GET /healthz``
    half an interval later, each without waiting for anything before it."""
    url = f"{target.ingest_url}/api/v1/traces"
    healthz = f"{target.ingest_url}/healthz"
    sends = [Sent(trace_id, 0.0) for trace_id, _ in bodies]
    probes = [Probe() for _ in bodies]
    tasks: list[asyncio.Task[None]] = []
    begin = time.monotonic() + 0.05
    for i, (_, body) in enumerate(bodies):
        sends[i].due = begin + i * interval_s
        await _sleep_until(sends[i].due)
        tasks.append(asyncio.create_task(_post(session, url, target.api_key, body, sends[i])))
        await _sleep_until(sends[i].due + interval_s / 2)
        tasks.append(asyncio.create_task(_probe(session, healthz, probes[i])))
    await asyncio.gather(*tasks)
    return sends, probes


# --- the figures ----------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the two nearest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(slots=True)
class Level:
    """One offered load in one mode, as one subscriber saw it."""

    mode: Mode
    subscriber: str
    rate: int
    traces: int
    latency_ms: list[float]
    first_ms: list[float]
    lost: int
    post_ms: list[float]
    ceiling_ms: list[float]
    worker_ms: list[float]
    """From the send to the start of the worker's transaction that stored the trace."""
    post_errors: int
    probe_errors: int
    lateness_ms: list[float]
    """How late each POST started against its schedule."""
    earlier_partial: int
    """Traces whose first event came before the one with all its spans."""
    cpu_busy: float
    body_bytes: float
    """The mean size of the measured traces' POST bodies."""
    """The machine's CPUs' busy share while the load was sent (every process, not only
    the bench's), from /proc/stat."""


@dataclass(slots=True)
class Result:
    levels: list[Level] = field(default_factory=list)
    load_average: tuple[float, float] = (0.0, 0.0)
    redis_version: str | None = None


async def _stored_at(database_url: str, trace_ids: Sequence[str]) -> dict[str, float]:
    """traces.created_at (now() of the worker's storing transaction) by trace id, as Unix time."""
    engine = create_async_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT replace(trace_id::text, '-', ''), created_at FROM traces"
                    " WHERE trace_id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": list(trace_ids)},
            )
            found: list[tuple[str, datetime]] = [(r[0], r[1]) for r in result]
    finally:
        await engine.dispose()
    return {trace_id: created.timestamp() for trace_id, created in found}


def _ms(seconds: float) -> float:
    return seconds * 1000


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat; (0, 0) elsewhere."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already in user and nice
    return total - idle, total


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return math.nan if total <= 0 else (after[0] - before[0]) / total


Say = Callable[[str], None]


async def _go_live(
    session: aiohttp.ClientSession,
    target: Target,
    subscribers: Sequence[Subscriber],
    probes: Workload,
    timeout_s: float = 120,
) -> None:
    """A subscription goes live a moment after it is sent: sends a probe trace every
    0.5 s until every subscriber received one."""
    deadline = time.monotonic() + timeout_s
    for index in itertools.count():
        trace = probes.trace(index)
        subscribers[0].expected[trace.trace_id] = len(trace.spans)
        await offered_load(session, target, [(trace.trace_id, native_bytes([trace]))], 0.5)
        if await _until_arrived(subscribers, [trace.trace_id], 0.5):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{target.mode}: no probe trace reached every subscriber")


def _level(
    target: Target,
    rate: int,
    subscriber: Subscriber,
    measured: Sequence[Sent],
    health: Sequence[Probe],
    stored: dict[str, float],
    cpu_busy: float,
    body_bytes: float,
) -> Level:
    arrived = [s for s in measured if s.trace_id in subscriber.complete]
    ok = [s for s in measured if s.status == 200]
    return Level(
        mode=target.mode,
        subscriber=subscriber.label,
        rate=rate,
        traces=len(measured),
        latency_ms=[_ms(subscriber.complete[s.trace_id] - s.start) for s in arrived],
        first_ms=[_ms(subscriber.first[s.trace_id] - s.start) for s in arrived],
        lost=len(measured) - len(arrived),
        post_ms=[_ms(s.end - s.start) for s in ok],
        ceiling_ms=[_ms(p.end - p.start) for p in health if p.status == 200],
        worker_ms=[_ms(stored[s.trace_id] - s.start_wall) for s in ok if s.trace_id in stored],
        post_errors=len(measured) - len(ok),
        probe_errors=sum(1 for p in health if p.status != 200),
        lateness_ms=[_ms(s.start - s.due) for s in measured],
        earlier_partial=sum(
            1 for s in arrived if subscriber.first[s.trace_id] < subscriber.complete[s.trace_id]
        ),
        cpu_busy=cpu_busy,
        body_bytes=body_bytes,
    )


async def measure(target: Target, options: Options, now_ns: int, say: Say) -> list[Level]:
    """Every load of ``options`` against ``target``: one Level per load and subscriber."""
    workload = replace(MEASURED, spans_per_trace=options.spans_per_trace, now_ns=now_ns)
    probes = replace(PROBES, spans_per_trace=options.spans_per_trace, now_ns=now_ns)
    expected: dict[str, int] = {}
    subscribers = [
        Subscriber(label, url, target.api_key, expected) for label, url in target.subscribers
    ]
    levels: list[Level] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        try:
            for subscriber in subscribers:
                subscriber.start()
            say(f"{target.mode}: waiting for every subscription to go live")
            await _go_live(session, target, subscribers, probes)
            next_index = 0
            for rate in options.rates:
                traces_per_s = rate / options.spans_per_trace
                warmup = math.ceil(options.warmup_s * traces_per_s)
                batch = list(workload.traces(warmup + options.traces, next_index))
                next_index += len(batch)
                expected.update((t.trace_id, len(t.spans)) for t in batch)
                bodies = [(t.trace_id, native_bytes([t])) for t in batch]
                say(
                    f"{target.mode}: {rate:,} spans/s, {warmup} warm-up and"
                    f" {options.traces} measured traces"
                )
                before = cpu_times()
                sends, health = await offered_load(session, target, bodies, 1 / traces_per_s)
                busy = busy_share(before, cpu_times())
                measured = sends[warmup:]
                size = sum(len(body) for _, body in bodies[warmup:]) / len(measured)
                ids = [s.trace_id for s in measured]
                await _until_arrived(subscribers, ids, options.timeout_s)
                try:
                    stored = await _stored_at(target.database_url, ids)
                except (OSError, SQLAlchemyError) as exc:
                    say(f"could not read when the traces were stored: {exc!r}")
                    stored = {}
                levels += [
                    _level(target, rate, subscriber, measured, health[warmup:], stored, busy, size)
                    for subscriber in subscribers
                ]
        finally:
            for subscriber in subscribers:
                await subscriber.stop()
    return levels


async def run(
    options: Options,
    *,
    log_dir: Path,
    services: DevServices | None = None,
    progress: bool = True,
) -> Result:
    """Measures every mode of ``options``. The distributed mode uses ``services`` if given
    (Kafka, Redis and PostgreSQL), else starts its own devservices."""

    def say(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    result = Result()
    start_load = os.getloadavg()[0]
    now_ns = time.time_ns()
    for mode in options.modes:
        if mode == "embedded":
            say("embedded: starting agenttrace serve on a fresh data dir")
            async with embedded(log_dir, dict(options.env)) as target:
                result.levels += await measure(target, options, now_ns, say)
            continue
        own = services is None
        if services is None:
            say("distributed: starting devservices Kafka, Redis and PostgreSQL")
            # Here, in the main thread: the services' processes die with the bench.
            started = DevServices().start()
        else:
            started = services
        try:
            say("distributed: migrate, project create, ingest, worker, two api replicas")
            async with distributed(started, log_dir, dict(options.env)) as target:
                result.levels += await measure(target, options, now_ns, say)
        finally:
            if own:
                started.stop()
        result.redis_version = redis_version()
    result.load_average = (start_load, os.getloadavg()[0])
    return result


def redis_version() -> str | None:
    path = shutil.which("redis-server")
    if path is None:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"v=(\S+)", out)
    return match.group(1) if match else None


# --- the report -----------------------------------------------------------------------


def _p(values: Sequence[float], q: float) -> float | None:
    return None if not values else percentile(values, q)


def rows(result: Result) -> list[dict[str, Any]]:
    table = []
    for level in result.levels:
        p50 = _p(level.latency_ms, 0.5)
        ceiling = _p(level.ceiling_ms, 0.5)
        table.append(
            {
                "mode": level.mode,
                "subscriber": level.subscriber,
                "offered spans/s": level.rate,
                "traces": level.traces,
                "p50 ms": p50,
                "p95 ms": _p(level.latency_ms, 0.95),
                "p99 ms": _p(level.latency_ms, 0.99),
                "lost": level.lost,
                "POST p50 ms": _p(level.post_ms, 0.5),
                "to worker p50 ms": _p(level.worker_ms, 0.5),
                "ceiling p50 ms": ceiling,
                "ratio p50": None if p50 is None or not ceiling else p50 / ceiling,
            }
        )
    return table


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run."""
    parts = [".venv/bin/python", "-m", "bench.live"]
    defaults = _parser().parse_args([])
    for name in ("mode", "rates", "traces", "warmup", "timeout"):
        value = getattr(args, name)
        if value != getattr(defaults, name):
            parts += [f"--{name}", str(value)]
    for setting in args.env:
        parts += ["--env", setting]
    if args.smoke:
        parts.append("--smoke")
    return " ".join(shlex.quote(p) for p in parts)


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


def _settings_note(options: Options) -> str:
    linger = _default("kafka_linger_ms")
    defaults = (
        f"worker batches of up to {_default('worker_batch_max_messages')} messages (a fetch"
        f" returns as soon as any message is there), Kafka producers with linger"
        f" {linger} ms and acks=all"
    )
    if not options.env:
        return f"Default settings: {defaults}."
    given = ", ".join(f"`{k}={v}`" for k, v in options.env)
    return f"Settings: {given} on every agenttrace process; otherwise the defaults: {defaults}."


def _per_load(levels: Sequence[Level], value: Callable[[Level], str]) -> str:
    """One ``value`` per (mode, load): the subscribers of a load share the sender's."""
    seen: dict[tuple[str, int], str] = {}
    for level in levels:
        seen.setdefault((level.mode, level.rate), value(level))
    return ", ".join(f"{mode} at {rate:,} spans/s {text}" for (mode, rate), text in seen.items())


def notes(result: Result, options: Options, command: str) -> str:
    levels = result.levels
    pairs = sum(level.traces for level in levels)
    lost = sum(level.lost for level in levels)
    post_errors = sum(level.post_errors for level in levels)
    probe_errors = sum(level.probe_errors for level in levels)
    partial = sum(level.earlier_partial for level in levels)
    lateness = [x for level in levels for x in level.lateness_ms]
    mean_body = sum(level.body_bytes for level in levels) / max(1, len(levels))
    modes = list(dict.fromkeys(level.mode for level in levels))
    described = {
        "embedded": "**embedded** = `agenttrace serve` on a fresh `--data-dir` (embedded"
        " PostgreSQL, the in-process bus and fan-out), the subscriber on the same server.",
        "distributed": "**distributed** = devservices Kafka, Redis and PostgreSQL (fsync"
        " off), `agenttrace migrate`, `agenttrace project create`, then one `ingest`, one"
        " `worker` and two `api` replicas, each its own process; the sender posts to"
        " ingest, and one subscriber on each replica (`api 1`, `api 2`) shows both get"
        " every trace through Redis pub/sub.",
    }
    if lost == 0:
        lost_note = f"none of the {pairs:,} (trace, subscriber) pairs was lost."
    else:
        lost_note = f"**{lost:,} of the {pairs:,} (trace, subscriber) pairs were lost.**"
    if post_errors or probe_errors:
        lost_note += f" {post_errors} trace POSTs and {probe_errors} ceiling requests failed."
    else:
        lost_note += " Every POST and every ceiling request got 200."
    if partial == 0:
        first_note = (
            "Every trace's first event already had all its spans (a trace is one POST, one"
            " bus message, one storing transaction), so the time of the first event is the"
            " latency."
        )
    else:
        first_note = (
            f"For {partial} (trace, subscriber) pairs an event with fewer spans came first."
        )
    lines = [
        " ".join([*(described[mode] for mode in modes), _settings_note(options)]),
        "",
        f"Method: an open-loop sender POSTs one {options.spans_per_trace}-span trace of"
        " bench/workload.py as a native JSON batch (`POST /api/v1/traces`,"
        f" {mean_body / 1000:.1f} KB on average) at each tick of the offered rate"
        " (100 spans/s = a trace every 100 ms, 1,000 spans/s = every 10 ms, 5,000 spans/s ="
        " every 2 ms), whatever the"
        f" earlier POSTs are doing: {options.warmup_s:g} s of warm-up, then"
        f" {options.traces:,} measured traces per load. Subscribers: `subscription {{"
        " traceUpdates { traceId spanCount } }` for the project, gql's"
        " WebsocketsTransport over graphql-transport-ws, in the sender's process (one"
        " event loop). **latency** = from the start of the trace's POST to the first"
        " `traceUpdates` event of that trace with all its spans (`spanCount` ="
        f" {options.spans_per_trace}). **lost** = measured traces not received"
        f" {options.timeout_s:g} s after the last send: {lost_note}",
        "",
        "**ceiling** = the network and HTTP floor: a `GET /healthz` to the same server"
        " (ingest, or `serve`) through the same client, half an interval after each trace"
        " POST, so at the same rate and under the same load. **ratio p50** = p50 latency"
        " over the ceiling's p50. Ceiling p99: "
        + _per_load(levels, lambda level: f"{_p(level.ceiling_ms, 0.99) or math.nan:.1f} ms")
        + ".",
        "",
        "Where the time goes: **POST p50** = the ingest request itself (it returns once the"
        " bus has the trace: Kafka with acks=all, or the embedded bus's table in"
        " PostgreSQL); **to worker p50** = from the send to the start of the worker's"
        " transaction that stored the trace (`traces.created_at`, that transaction's"
        " `now()`, against the sender's wall clock on the same machine). The rest (p50"
        " minus to worker) is the store, the cache invalidation, then the fan-out (Redis"
        " in distributed mode) and the WebSocket: the worker publishes live events right"
        f" after its commit, before its `trace-events` produce. {first_note}",
        "",
        f"The sender's POSTs started {_p(lateness, 0.5) or 0:.2f} ms (p50),"
        f" {_p(lateness, 0.99) or 0:.1f} ms (p99) after their schedule. The client, the"
        " servers, PostgreSQL, Kafka and Redis share the machine's CPUs; busy while each"
        " load was sent (every process on the machine): "
        + _per_load(levels, lambda level: f"{level.cpu_busy:.0%}")
        + f". 1-minute load average {result.load_average[0]:.1f} at the start,"
        f" {result.load_average[1]:.1f} at the end.",
        "",
        "```bash",
        command,
        "```",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.live",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--mode", choices=["embedded", "distributed", "both"], default="both")
    parser.add_argument(
        "--rates",
        default=",".join(map(str, DEFAULTS.rates)),
        help="offered loads in spans/s, comma-separated (default 100,1000,5000)",
    )
    parser.add_argument(
        "--traces",
        type=int,
        help=f"measured traces per load (default {DEFAULTS.traces}; --smoke {SMOKE.traces})",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        help=f"seconds of unmeasured traces per load (default {DEFAULTS.warmup_s:g})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        help=f"seconds after the last send before a trace is lost (default {DEFAULTS.timeout_s:g})",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="AGENTTRACE_X=VALUE",
        help="a setting for every agenttrace process started (repeatable),"
        " e.g. AGENTTRACE_KAFKA_LINGER_MS=0",
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny run; implies --no-write")
    parser.add_argument("--log-dir", help="keep the processes' logs here (default: deleted)")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return parser


def options_of(args: argparse.Namespace) -> Options:
    base = SMOKE if args.smoke else DEFAULTS
    modes: tuple[Mode, ...] = MODES if args.mode == "both" else (args.mode,)
    try:
        rates = tuple(int(r) for r in str(args.rates).split(",") if r.strip())
    except ValueError:
        raise SystemExit("error: --rates takes whole numbers of spans/s") from None
    env = tuple(tuple(setting.split("=", 1)) for setting in args.env)
    if any(len(pair) != 2 or not pair[0].startswith("AGENTTRACE_") for pair in env):
        raise SystemExit("error: --env takes AGENTTRACE_NAME=VALUE")
    options = Options(
        modes=modes,
        rates=rates,
        traces=base.traces if args.traces is None else args.traces,
        warmup_s=base.warmup_s if args.warmup is None else args.warmup,
        timeout_s=base.timeout_s if args.timeout is None else args.timeout,
        env=tuple((k, v) for k, v in env),
    )
    if not rates or any(r <= 0 for r in rates):
        raise SystemExit("error: --rates needs at least one positive number")
    if options.traces < 1 or options.warmup_s < 0 or options.timeout_s <= 0:
        raise SystemExit("error: --traces and --timeout must be positive, --warmup not negative")
    return options


def plot(result: Result) -> str:
    """The latency CDF of each load and mode (one subscriber per mode), in docs/plots."""
    seen: set[tuple[str, int]] = set()
    series: dict[str, list[float]] = {}
    for level in result.levels:
        if (level.mode, level.rate) in seen:
            continue
        seen.add((level.mode, level.rate))
        series[f"{level.mode}, {level.rate:,} spans/s"] = level.latency_ms
    return latency_cdf_plot("live-latency-cdf", "Live: send to subscriber latency", series)


async def _main(args: argparse.Namespace, options: Options, log_dir: Path) -> None:
    result = await run(options, log_dir=log_dir)
    table = rows(result)
    print(markdown_table(table))
    if not (args.no_write or args.smoke):
        versions: dict[str, str | None] = {}
        if "distributed" in options.modes:
            versions = {"Kafka": kafka_version(), "Redis": result.redis_version}
        else:
            versions = {"Kafka": None}
        text = notes(result, options, command_line(args)) + "\n\n" + plot(result)
        path = write_section(SECTION, table, text, versions=versions)
        print(f"wrote the {SECTION!r} section of {path.relative_to(ROOT)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    options = options_of(args)
    with log_directory(args.log_dir, "live") as log_dir:
        asyncio.run(_main(args, options, log_dir))


if __name__ == "__main__":
    main()
