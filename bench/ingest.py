"""The ingest benchmark: spans/s accepted by one ``agenttrace ingest`` into real Kafka.

    python -m bench.ingest            # devservices Kafka + PostgreSQL, ~2.5 min of load
    python -m bench.ingest --smoke    # a second a point, no write

Starts devservices Kafka and PostgreSQL (no Redis), runs ``agenttrace migrate`` and
``agenttrace project create`` (the API key ingest checks), then one ``agenttrace ingest``
(Kafka producer with acks=all, the default settings) and, beside it, the ceiling: a tiny
FastAPI app in its own uvicorn process, started with the same ``uvicorn.run`` settings as
``agenttrace ingest``, whose ``POST /v1/traces`` and ``POST /api/v1/traces`` read the body
(``ingest.body.read_body``, as ingest does) and answer 200 without doing anything else.

Load: closed loop, ``--concurrency`` aiohttp clients (1, 4, 16), each POSTing one 10-span
trace of bench/workload.py after another, for both encodings: OTLP protobuf
(``application/x-protobuf`` to ``/v1/traces``, uncompressed, as the stock exporter sends
it) and native JSON (``/api/v1/traces``). Per (encoding, clients) point: ``--warmup``
seconds of each server, then ``--duration`` seconds of ingest in ``--rounds`` slices, each
after an equal slice of the ceiling, so a drift of the machine touches both alike.
**ratio** = ingest's requests/s over the ceiling's, same bodies, same client, same
concurrency. Answers other than 2xx (and connection errors) are counted, not timed.

Beside them, a second ``agenttrace ingest`` of ``--processes`` worker processes
(``AGENTTRACE_INGEST_WORKERS``, default 2) takes a slice in each round of the points with
the most clients: traces/s of one process and of several (a trace = one request with its
spans), and the processes that 10,000 traces/s would take.

After the load, the spans topic's end offsets are summed and compared with the 2xx
answers: each accepted trace must be one message in Kafka.

Prints the table and rewrites the "Ingest: spans/s into Kafka" section of
docs/benchmarks.md (not with ``--smoke`` or ``--no-write``).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import math
import os
import shlex
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp
import orjson
from fastapi import FastAPI, Request, Response

from agenttrace.settings import Settings
from bench.live import busy_share, cpu_times, percentile, run_cli
from bench.plots import throughput_plot
from bench.processes import BenchProcess, child_env, free_port, log_directory
from bench.report import kafka_version, markdown_table, write_section
from bench.workload import Workload, native_bytes, otlp_bytes
from devservices import DevServices
from ingest.body import read_body
from messaging.kafka_bus import PRODUCERS

SECTION = "Ingest: spans/s into Kafka"
ROOT = Path(__file__).resolve().parent.parent

Encoding = Literal["otlp", "native"]
ENCODINGS: tuple[Encoding, ...] = ("otlp", "native")
PATHS: dict[Encoding, tuple[str, str]] = {
    "otlp": ("/v1/traces", "application/x-protobuf"),
    "native": ("/api/v1/traces", "application/json"),
}
WORKLOAD = Workload(seed=21)
"""The traces posted: default 10-span traces, cycled through."""


@dataclass(frozen=True, slots=True)
class Options:
    encodings: tuple[Encoding, ...] = ENCODINGS
    concurrency: tuple[int, ...] = (1, 4, 16)
    duration_s: float = 10.0
    """Measured seconds of ingest per point (and as many of the ceiling)."""
    warmup_s: float = 2.0
    """Unmeasured seconds of each server per point, before its measurement."""
    rounds: int = 5
    bodies: int = 1_000
    """Distinct traces per encoding, posted in turn."""
    env: tuple[tuple[str, str], ...] = ()
    """Settings for the agenttrace processes (``AGENTTRACE_KAFKA_LINGER_MS=0``...)."""
    processes: int = 2
    """Worker processes of the second ingest server, measured at the most clients
    (1: no second server)."""


DEFAULTS = Options()
SMOKE = Options(duration_s=1.0, warmup_s=0.2, rounds=2, bodies=50)
SEED_TRACES_PER_S = 10_000
"""The seed's ingest figure for one instance: traces (requests of one trace) per second."""


# --- the servers ----------------------------------------------------------------------


def noop_app() -> FastAPI:
    """The ceiling: the same FastAPI and uvicorn, routes that read the body and answer 200."""
    settings = Settings()
    app = FastAPI(title="no-op ingest")

    async def accept(request: Request) -> Response:
        await read_body(request, settings.max_body_bytes)
        return Response(status_code=200)

    for path, _ in PATHS.values():
        app.add_api_route(path, accept, methods=["POST"])

    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_api_route("/healthz", healthz, methods=["GET"])
    return app


def serve_noop(port: int) -> None:
    """Runs the no-op app as ``agenttrace ingest`` runs its app (agenttrace/cli.py)."""
    import uvicorn

    from agenttrace.cli import http_stack
    from agenttrace.logs import configure_logging

    settings = Settings(port=port)
    configure_logging(settings.log_level, settings.log_format)
    print(f"no-op ingest listening on http://{settings.host}:{port}", file=sys.stderr, flush=True)
    uvicorn.run(noop_app(), host=settings.host, port=settings.port, **http_stack(settings))


class Server(BenchProcess):
    """A server process of the bench on a free loopback port."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log_dir: Path,
        *,
        publish_metrics: bool = False,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.publish_metrics = publish_metrics
        """Its /metrics has the wait for Kafka of all its requests (one process)."""
        super().__init__(name, [*argv, "--port", str(self.port)], env, log_dir)

    def cpu_seconds(self) -> float:
        """CPU seconds of the process and every process under it (uvicorn's workers)."""
        own = super().cpu_seconds()
        return own + sum(_cpu_of(pid) for pid in _descendants(self.popen.pid))


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name ([1] is the parent's pid)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(_stat(entry)[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _cpu_of(pid: int) -> float:
    try:
        fields = _stat(pid)
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Target:
    ingest: Server
    ceiling: Server
    api_key: str
    kafka_bootstrap_servers: str
    multi: Server | None = None
    """``agenttrace ingest`` with ``processes`` worker processes."""
    processes: int = 1


@asynccontextmanager
async def servers(
    services: DevServices, log_dir: Path, settings: dict[str, str], processes: int = 1
) -> AsyncIterator[Target]:
    """``agenttrace migrate``, a new project, then ``agenttrace ingest``, the no-op
    server and (``processes`` > 1) an ``agenttrace ingest`` of that many worker
    processes, until the block ends."""
    env = child_env(services.env | settings)
    run_cli(["migrate"], env)
    created = orjson.loads(
        run_cli(["project", "create", f"bench-ingest-{time.time_ns()}", "--json"], env)
    )
    async with AsyncExitStack() as stack:
        ingest_argv = [sys.executable, "-m", "agenttrace.cli", "ingest"]
        ingest = Server("ingest", ingest_argv, env, log_dir, publish_metrics=True)
        stack.push_async_callback(ingest.stop)
        noop_argv = [sys.executable, "-m", "bench.ingest", "--serve-noop"]
        ceiling = Server("no-op", noop_argv, env, log_dir)
        stack.push_async_callback(ceiling.stop)
        multi = None
        if processes > 1:
            multi_env = env | {"AGENTTRACE_INGEST_WORKERS": str(processes)}
            multi = Server(f"ingest-{processes}", ingest_argv, multi_env, log_dir)
            stack.push_async_callback(multi.stop)
        await ingest.wait_healthy(ingest.url)
        await ceiling.wait_healthy(ceiling.url)
        if multi is not None:
            await multi.wait_healthy(multi.url)
        yield Target(
            ingest,
            ceiling,
            created["api_key"],
            services.kafka_bootstrap_servers,
            multi,
            processes,
        )


# --- the load -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes
    spans: int


@dataclass(slots=True)
class Timing:
    """One server's answers during some slices."""

    seconds: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    """Of the 2xx answers."""
    spans: int = 0
    """Spans in the 2xx answers' bodies."""
    non_2xx: int = 0
    """Answers other than 2xx, and requests that got no answer."""
    first_problem: str | None = None
    busy: tuple[int, int] = (0, 0)
    """The machine's busy and total jiffies during the slices (/proc/stat)."""
    server_cpu_s: float = 0.0
    """The server process's own CPU seconds during the slices."""
    client_cpu_s: float = 0.0
    """The bench's (the clients') CPU seconds during the slices."""
    publish_s: float = 0.0
    """Ingest's wait for Kafka's acks=all, summed over its requests (its /metrics)."""
    published: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies_s)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def spans_per_second(self) -> float:
        return self.spans / self.seconds if self.seconds > 0 else 0.0

    def add(self, other: Timing) -> None:
        self.seconds += other.seconds
        self.latencies_s += other.latencies_s
        self.spans += other.spans
        self.non_2xx += other.non_2xx
        self.first_problem = self.first_problem or other.first_problem
        self.busy = (self.busy[0] + other.busy[0], self.busy[1] + other.busy[1])
        self.server_cpu_s += other.server_cpu_s
        self.client_cpu_s += other.client_cpu_s
        self.publish_s += other.publish_s
        self.published += other.published

    @property
    def publish_ms(self) -> float | None:
        """The mean wait of a request for Kafka's answer."""
        return self.publish_s / self.published * 1000 if self.published else None


async def drive(
    session: aiohttp.ClientSession,
    server: Server,
    encoding: Encoding,
    bodies: Sequence[Body],
    api_key: str,
    *,
    clients: int,
    seconds: float,
    cursor: itertools.count[int],
) -> Timing:
    """``clients`` loops, each POSTing the next body as soon as its last one was answered,
    for ``seconds``."""
    path, content_type = PATHS[encoding]
    url = server.url + path
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": content_type}
    timing = Timing()
    publish_before = await publish_wait(session, server)
    cpu_before, busy_before, client_before = server.cpu_seconds(), cpu_times(), time.process_time()
    started = time.perf_counter()
    deadline = started + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            body = bodies[next(cursor) % len(bodies)]
            t0 = time.perf_counter()
            try:
                async with session.post(url, data=body.data, headers=headers) as response:
                    answer = await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                timing.non_2xx += 1
                timing.first_problem = timing.first_problem or f"{exc.__class__.__name__}: {exc}"
                continue
            if 200 <= status < 300:
                timing.latencies_s.append(time.perf_counter() - t0)
                timing.spans += body.spans
            else:
                timing.non_2xx += 1
                timing.first_problem = timing.first_problem or (
                    f"HTTP {status}: {answer[:300].decode(errors='replace')}"
                )

    await asyncio.gather(*(client() for _ in range(clients)))
    timing.seconds = time.perf_counter() - started
    busy_after = cpu_times()
    timing.busy = (busy_after[0] - busy_before[0], busy_after[1] - busy_before[1])
    timing.server_cpu_s = server.cpu_seconds() - cpu_before
    timing.client_cpu_s = time.process_time() - client_before
    publish_after = await publish_wait(session, server)
    timing.publish_s = publish_after[0] - publish_before[0]
    timing.published = int(publish_after[1] - publish_before[1])
    return timing


async def publish_wait(session: aiohttp.ClientSession, server: Server) -> tuple[float, float]:
    """(seconds, requests) of ``agenttrace_bus_publish_seconds`` on the server's
    /metrics so far: how long its requests waited for Kafka; (0, 0) if it has none."""
    if not server.publish_metrics:
        return 0.0, 0.0
    async with session.get(server.url + "/metrics") as response:
        text = await response.text()
    found = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        for which in found:
            if name == f"agenttrace_bus_publish_seconds_{which}":
                found[which] = float(value)
    return found["sum"], found["count"]


async def check_answer(
    session: aiohttp.ClientSession, target: Target, encoding: Encoding, body: Body
) -> None:
    """One POST to ingest, checked in full: every span accepted."""
    path, content_type = PATHS[encoding]
    headers = {"Authorization": f"Bearer {target.api_key}", "Content-Type": content_type}
    async with session.post(target.ingest.url + path, data=body.data, headers=headers) as response:
        answer = await response.read()
        if response.status != 200:
            raise RuntimeError(f"ingest answered {response.status}: {answer[:500]!r}")
    if encoding == "native":
        accepted = orjson.loads(answer)
        if accepted != {"accepted": body.spans, "rejected": []}:
            raise RuntimeError(f"ingest did not accept every span: {accepted}")
    elif answer:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceResponse,
        )

        response_message = ExportTraceServiceResponse.FromString(answer)
        if response_message.partial_success.rejected_spans:
            raise RuntimeError(f"ingest rejected spans: {response_message.partial_success}")


def make_bodies(encoding: Encoding, count: int) -> list[Body]:
    encode = otlp_bytes if encoding == "otlp" else native_bytes
    return [Body(encode([t]), len(t.spans)) for t in WORKLOAD.traces(count)]


async def kafka_messages(bootstrap_servers: str, topic: str) -> int:
    """The messages in ``topic``: the sum of its partitions' end offsets."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers)
    await consumer.start()
    try:
        # topics() fetches the metadata but leaves the consumer's own copy as it was.
        cluster = await consumer._client.fetch_all_metadata()
        partitions = cluster.partitions_for_topic(topic) or set()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
    finally:
        await consumer.stop()
    return int(sum(ends.values()))


@dataclass(slots=True)
class Point:
    encoding: Encoding
    clients: int
    body_bytes: float
    ingest: Timing
    ceiling: Timing
    multi: Timing | None = None
    """The ingest of several worker processes, in the same rounds (the most clients only)."""


@dataclass(slots=True)
class Result:
    points: list[Point] = field(default_factory=list)
    accepted_traces: int = 0
    """Every 2xx answer of ingest (warm-ups and checks too): one trace, one message each."""
    kafka_messages: int | None = None
    """Messages added to the spans topic during the run."""
    load_average: tuple[float, float] = (0.0, 0.0)
    processes: int = 1
    """Worker processes of the second ingest server (1: none measured)."""


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


async def measure(target: Target, options: Options, *, progress: bool = True) -> Result:
    from messaging import topics

    result = Result(processes=target.processes)
    start_load = os.getloadavg()[0]
    before = await kafka_messages(target.kafka_bootstrap_servers, topics.SPANS)
    cursor = itertools.count()
    # Idle connections closed by the client before uvicorn's keep-alive timeout (5 s)
    # closes them: a server waits through the other servers' slices, and a request on a
    # connection the server is closing fails ("Can not write request body").
    limit = aiohttp.TCPConnector(limit=0, keepalive_timeout=3)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=limit, timeout=timeout) as session:
        for encoding in options.encodings:
            bodies = make_bodies(encoding, options.bodies)
            size = sum(len(b.data) for b in bodies) / len(bodies)
            await check_answer(session, target, encoding, bodies[0])
            result.accepted_traces += 1
            for clients in options.concurrency:
                run = functools.partial(
                    drive,
                    session,
                    encoding=encoding,
                    bodies=bodies,
                    api_key=target.api_key,
                    clients=clients,
                    cursor=cursor,
                )
                ingest, ceiling = Timing(), Timing()
                # Several processes only where one is busiest: the most clients.
                multi_server = target.multi if clients == max(options.concurrency) else None
                multi = Timing() if multi_server is not None else None
                await run(target.ceiling, seconds=options.warmup_s)
                warm = await run(target.ingest, seconds=options.warmup_s)
                result.accepted_traces += warm.requests
                if multi_server is not None:
                    warm = await run(multi_server, seconds=options.warmup_s)
                    result.accepted_traces += warm.requests
                piece = options.duration_s / options.rounds
                for _ in range(options.rounds):
                    ceiling.add(await run(target.ceiling, seconds=piece))
                    ingest.add(await run(target.ingest, seconds=piece))
                    if multi is not None and multi_server is not None:
                        multi.add(await run(multi_server, seconds=piece))
                result.accepted_traces += ingest.requests + (multi.requests if multi else 0)
                result.points.append(Point(encoding, clients, size, ingest, ceiling, multi))
                _say(
                    progress,
                    f"{encoding}, {clients} clients: {ingest.spans_per_second:,.0f} spans/s,"
                    f" {ingest.per_second:,.0f} req/s (ceiling {ceiling.per_second:,.0f},"
                    f" ratio {ratio(ingest, ceiling):.3f}), non-2xx"
                    f" {ingest.non_2xx}/{ceiling.non_2xx}"
                    + (
                        f"; {target.processes} processes {multi.per_second:,.0f} traces/s,"
                        f" non-2xx {multi.non_2xx}"
                        if multi is not None
                        else ""
                    )
                    + (
                        f" ({problem})"
                        if (problem := ingest.first_problem or ceiling.first_problem)
                        else ""
                    ),
                )
    after = await kafka_messages(target.kafka_bootstrap_servers, topics.SPANS)
    result.kafka_messages = after - before
    result.load_average = (start_load, os.getloadavg()[0])
    return result


async def run(
    options: Options,
    *,
    log_dir: Path,
    services: DevServices | None = None,
    progress: bool = True,
) -> Result:
    """Measures every point of ``options`` on ``services`` (Kafka and PostgreSQL), or on
    devservices started (and stopped) here."""
    own = services is None
    if services is None:
        _say(progress, "starting devservices Kafka and PostgreSQL")
        started = DevServices(redis=False).start()
    else:
        started = services
    try:
        _say(progress, "migrate, project create, agenttrace ingest, the no-op server")
        async with servers(started, log_dir, dict(options.env), options.processes) as target:
            return await measure(target, options, progress=progress)
    finally:
        if own:
            started.stop()


# --- the report -----------------------------------------------------------------------


def ratio(ingest: Timing, ceiling: Timing) -> float:
    return ingest.per_second / ceiling.per_second if ceiling.per_second > 0 else math.nan


def _p_ms(timing: Timing, q: float) -> float | None:
    return None if not timing.latencies_s else percentile(timing.latencies_s, q) * 1000


def _cpu(timing: Timing, client: bool = False) -> float | None:
    used = timing.client_cpu_s if client else timing.server_cpu_s
    if timing.seconds <= 0 or math.isnan(used):
        return None
    return used / timing.seconds


def rows(result: Result) -> list[dict[str, Any]]:
    table = []
    for point in result.points:
        ingest, ceiling = point.ingest, point.ceiling
        table.append(
            {
                "encoding": "OTLP protobuf" if point.encoding == "otlp" else "native JSON",
                "clients": point.clients,
                "body bytes": round(point.body_bytes),
                "requests": ingest.requests,
                "req/s": ingest.per_second,
                "spans/s": ingest.spans_per_second,
                "p50 ms": _p_ms(ingest, 0.5),
                "p99 ms": _p_ms(ingest, 0.99),
                "Kafka wait ms": ingest.publish_ms,
                "ceiling req/s": ceiling.per_second,
                "ratio": ratio(ingest, ceiling),
                "non-2xx": ingest.non_2xx,
                "ceiling non-2xx": ceiling.non_2xx,
                "ingest CPU": _cpu(ingest),
                "ceiling CPU": _cpu(ceiling),
                "client CPU": _cpu(ingest, client=True),
                "ceiling client CPU": _cpu(ceiling, client=True),
            }
        )
    return table


def _trace_row(
    encoding: Encoding, processes: int, clients: int, timing: Timing, one_process: float
) -> dict[str, Any]:
    per_process = timing.per_second / processes
    return {
        "encoding": "OTLP protobuf" if encoding == "otlp" else "native JSON",
        "processes": processes,
        "clients": clients,
        "traces/s": timing.per_second,
        "traces/s per process": per_process,
        "x one process": timing.per_second / one_process if one_process > 0 else math.nan,
        "CPU": _cpu(timing),
        "non-2xx": timing.non_2xx,
        f"processes for {SEED_TRACES_PER_S:,} traces/s": (
            math.ceil(SEED_TRACES_PER_S / per_process) if per_process > 0 else None
        ),
    }


def trace_rows(result: Result) -> list[dict[str, Any]]:
    """Per encoding: one process at the clients where it took the most traces/s, and the
    several-process ingest at the most clients, each with the processes that the seed's
    10,000 traces/s would take at its traces/s per process."""
    table = []
    for encoding in ENCODINGS:
        points = [p for p in result.points if p.encoding == encoding]
        if not points:
            continue
        best = max(points, key=lambda p: p.ingest.per_second)
        one = best.ingest.per_second
        table.append(_trace_row(encoding, 1, best.clients, best.ingest, one))
        for point in points:
            if point.multi is not None:
                table.append(
                    _trace_row(encoding, result.processes, point.clients, point.multi, one)
                )
    return table


def _traces_notes(result: Result) -> list[str]:
    """The traces/s table and what it says about 10,000 traces/s, honestly."""
    table = trace_rows(result)
    if not table:
        return []
    singles = [r for r in table if r["processes"] == 1]
    multis = [r for r in table if r["processes"] > 1]
    slowest = min(singles, key=lambda r: r["traces/s"])
    rate, cpu = slowest["traces/s"], slowest["CPU"] or math.nan
    by_cpu = rate / cpu if cpu > 0 else math.nan
    text = [
        "**Traces/s** (a trace = one request of one 10-span trace). One process: its best"
        " point above. "
        + (
            f"{result.processes} processes: `AGENTTRACE_INGEST_WORKERS={result.processes}`,"
            " uvicorn's worker processes on one port, a slice in each round of the points"
            " with the most clients (CPU = all its processes together, in cores)."
            if multis
            else ""
        ),
        "",
        markdown_table(table),
        "",
        f"**{SEED_TRACES_PER_S:,} traces/s** ({slowest['encoding']}, the slower encoding):"
        f" one process took {rate:,.0f} traces/s here, so {math.ceil(SEED_TRACES_PER_S / rate)}"
        f" processes at that rate. It used {cpu:.2f} of a core for it"
        + (
            " (CPU-bound), so that is also what processes with a core each would need."
            if cpu >= 0.85
            else (
                f", {cpu / rate * 1e6:,.0f} us of CPU a trace: with a core to itself and"
                " brokers that answer as fast as it computes, one process would take up to"
                f" {by_cpu:,.0f} traces/s, and {math.ceil(SEED_TRACES_PER_S / by_cpu)}"
                " processes (cores) would do."
            )
        )
        + f" Either way beside brokers that take {SEED_TRACES_PER_S * 10:,} spans/s with"
        " acks=all. This machine cannot show that: it has 2 cores, which the client, Kafka,"
        " PostgreSQL and every ingest process share",
    ]
    if multis:
        scale = ", ".join(
            f"{r['encoding']} x{r['x one process']:.2f} of one process at"
            f" {r['CPU'] or math.nan:.2f} cores"
            for r in multis
        )
        text[-1] += (
            f"; its {result.processes} processes took {scale}: here a second process"
            " competes for the same 2 cores with the broker and the client, so the"
            f" per-process rate of the {result.processes}-process rows (and the larger"
            " count it projects) is this crowded machine's, not that of processes with"
            " cores of their own"
        )
    text[-1] += "."
    return [*text, ""]


def command_line(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "-m", "bench.ingest"]
    defaults = _parser().parse_args([])
    for name in ("encodings", "concurrency", "duration", "warmup", "rounds", "bodies", "processes"):
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


def _where_the_time_goes(points: Sequence[Point]) -> list[str]:
    """Per point of the fewest and the most clients: the share of a request's time spent
    waiting for Kafka, and the CPU; then which one limits."""
    if not points:
        return []
    fewest = min(p.clients for p in points)
    most = max(p.clients for p in points)
    shown = [p for p in points if p.clients in (fewest, most)]

    def one(p: Point) -> str:
        mean_ms = sum(p.ingest.latencies_s) / max(1, p.ingest.requests) * 1000
        wait = p.ingest.publish_ms
        waited = "" if wait is None else f", {wait:.1f} ms of it waiting for Kafka"
        return (
            f"{p.encoding} x{p.clients}: mean {mean_ms:.1f} ms a request{waited},"
            f" {_cpu(p.ingest) or math.nan:.2f} of a core"
        )

    busiest = max((_cpu(p.ingest) or 0.0) for p in shown)
    waits = [
        p.ingest.publish_ms / (sum(p.ingest.latencies_s) / p.ingest.requests * 1000)
        for p in shown
        if p.ingest.publish_ms is not None and p.ingest.requests
    ]
    if busiest >= 0.85:
        verdict = (
            "at the most clients one process is CPU-bound (its one core: HTTP, decoding,"
            " the message, the producer); more processes are the way on"
        )
    elif waits and max(waits) >= 0.5:
        verdict = (
            "most of a request's time is the wait for the broker's acks=all answer, with"
            " the process's core partly idle: Kafka's round trip limits it (aiokafka has"
            " one produce request in flight per producer and broker; ingest runs"
            f" {PRODUCERS} producers), and the broker shares this machine's 2 cores"
        )
    else:
        verdict = "neither the core nor Kafka's wait is saturated at these clients"
    text = "Where the time goes: " + "; ".join(one(p) for p in shown) + f". So {verdict}."
    return [text, ""]


BEFORE_AND_AFTER = (
    "**Before and after** the hot-path work of issue 7 (profiled with py-spy under this"
    " load): uvloop and httptools instead of asyncio and h11 in every HTTP process (and"
    " in the ceiling); zstd instead of lz4, which aiokafka compresses at level 9 (a"
    " 16.5 KB OTLP span batch: 5.0 KB with lz4, 3.8 KB with zstd in about half the"
    " time);"
    f" {PRODUCERS} Kafka producers per process instead of one (aiokafka has one produce"
    " request in flight per producer and broker, and at 4-16 clients a request mostly"
    " waited for it: the process's core was half idle); OTLP attributes read without a"
    " call per value. Before, the same command on the code without them (commit 225eb4c,"
    " 13:42 UTC, the machine shared with other work, load average 12 to 8.5): OTLP at 1,"
    " 4 and 16 clients 345, 512 and 285 req/s (ratio 0.112, 0.159, 0.158), native JSON"
    " 555, 860 and 556 req/s (0.187, 0.269, 0.193); an earlier, quieter run (09:46 UTC)"
    " had ratios 0.157-0.199 (OTLP) and 0.218-0.271 (native), peaking at 1,036 and 1,672"
    " req/s. After them, the same command at 13:52 UTC (load average 9 to 7): OTLP 441,"
    " 537 and 781 req/s (ratio 0.110, 0.125, 0.133), native JSON 701, 1,076 and 739 req/s"
    " (0.147, 0.197, 0.213). So ingest took more requests/s at every point (up to 2.7x at"
    " 16 clients), but not a larger share of its ceiling: the ceiling runs on the same"
    " faster stack, and uvloop and httptools sped up its HTTP floor (which is all of its"
    " work and a small part of ingest's) as much or more (3,078 to 4,028 req/s at 1"
    " client). The rest of the gap is the wait for Kafka and the CPU of decoding and"
    " producing (below)."
)


def notes(result: Result, options: Options, command: str) -> str:
    points = result.points
    non_2xx = sum(p.ingest.non_2xx + (p.multi.non_2xx if p.multi else 0) for p in points)
    ceiling_non_2xx = sum(p.ceiling.non_2xx for p in points)
    problems = [
        p.ingest.first_problem or p.ceiling.first_problem or (p.multi and p.multi.first_problem)
        for p in points
    ]
    problem = next((p for p in problems if p), None)
    if non_2xx == 0 and ceiling_non_2xx == 0:
        answers = "Every answer was 2xx: **0 non-2xx** from ingest and from the ceiling."
    else:
        answers = (
            f"**{non_2xx:,} ingest and {ceiling_non_2xx:,} ceiling requests got no 2xx**"
            f" (the first: {problem})."
        )
    if result.kafka_messages is None:
        kafka = ""
    elif result.kafka_messages == result.accepted_traces:
        kafka = (
            f" The spans topic gained {result.kafka_messages:,} messages during the run, one"
            " per accepted trace (warm-ups included): every 2xx was in Kafka."
        )
    else:
        kafka = (
            f" **The spans topic gained {result.kafka_messages:,} messages during the run, for"
            f" {result.accepted_traces:,} accepted traces.**"
        )
    busy = ", ".join(
        f"{p.encoding} x{p.clients} {busy_share((0, 0), p.ingest.busy):.0%}"
        f"/{busy_share((0, 0), p.ceiling.busy):.0%}"
        for p in points
    )
    settings = (
        f"{_default('kafka_partitions')} partitions, replication"
        f" {_default('kafka_replication_factor')}, {_default('kafka_compression')} compression,"
        f" linger {_default('kafka_linger_ms')} ms, acks=all (idempotent producers,"
        f" {PRODUCERS} per process)"
    )
    if options.env:
        given = ", ".join(f"`{k}={v}`" for k, v in options.env)
        settings = f"{given}; otherwise the defaults: {settings}"
    sizes = {p.encoding: f"{p.body_bytes:,.0f}" for p in points}
    lines = [
        "**ingest** = one `agenttrace ingest` process (uvicorn with uvloop and httptools,"
        " one worker) on devservices"
        f" Kafka (KRaft, one broker) and PostgreSQL (the API key, cached by ingest for 5 s);"
        f" producer settings: {settings}. A 2xx means the trace is in Kafka. No storage"
        " worker runs: this is ingest alone.",
        "",
        "Method: closed loop, 1, 4 and 16 aiohttp clients in the bench's process, each"
        " POSTing one default 10-span trace of bench/workload.py after another (distinct"
        f" traces, {options.bodies:,} per encoding in turn): **OTLP protobuf** ="
        " `POST /v1/traces`, `application/x-protobuf`, uncompressed, with OpenInference"
        f" attributes, as the stock OTLP/HTTP exporter sends it ({sizes.get('otlp', '-')}"
        " bytes on average); **native JSON** = `POST /api/v1/traces`"
        f" ({sizes.get('native', '-')} bytes). Per point {options.warmup_s:g} s of warm-up of"
        f" each server, then {options.duration_s:g} s of ingest in {options.rounds} slices,"
        " each after an equal slice of the ceiling.",
        "",
        "**ceiling** = the same bodies from the same clients to a no-op endpoint on the"
        " same server stack: a FastAPI app in its own uvicorn process, started with"
        " `agenttrace ingest`'s `uvicorn.run` settings and logging, whose routes read the"
        " body (`ingest.body.read_body`) and answer 200. **ratio** = ingest's req/s over"
        " the ceiling's. So 1 - ratio is what authentication, decoding, the Kafka"
        " message and the wait for acks=all cost against the HTTP floor.",
        "",
        BEFORE_AND_AFTER,
        "",
        f"{answers}{kafka}",
        "",
        *_traces_notes(result),
        *_where_the_time_goes(points),
        "**Kafka wait ms** = ingest's mean wait per request for the broker's acks=all"
        " answer (from its `agenttrace_bus_publish_seconds`), a part of its latency. "
        "**ingest CPU** / **ceiling CPU** = that server process's CPU time over the"
        " slices' time (1.0 = one core: a single uvicorn process cannot go past it);"
        " **client CPU** / **ceiling client CPU** = the same for the bench's process, which"
        " runs every client on one event loop (near 1.0, the client is the limit, and the"
        " ratio understates how far ingest is from the floor)."
        " The client, both servers, Kafka and PostgreSQL share the machine's CPUs; busy"
        f" during ingest/ceiling slices: {busy}. 1-minute load average"
        f" {result.load_average[0]:.1f} at the start, {result.load_average[1]:.1f} at the"
        " end.",
        "",
        "```bash",
        command,
        "```",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--encodings", default=",".join(DEFAULTS.encodings))
    parser.add_argument(
        "--concurrency",
        default=",".join(map(str, DEFAULTS.concurrency)),
        help="clients at a time, comma-separated (default 1,4,16)",
    )
    parser.add_argument("--duration", type=float, help="measured seconds per point (default 10)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per server and point")
    parser.add_argument("--rounds", type=int, help="slices per point (default 5)")
    parser.add_argument("--bodies", type=int, help="distinct traces per encoding (default 1000)")
    parser.add_argument(
        "--processes",
        type=int,
        default=DEFAULTS.processes,
        help="worker processes of the second ingest, at the most clients (default 2; 1: none)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="AGENTTRACE_X=VALUE",
        help="a setting for the agenttrace processes (repeatable)",
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny run; implies --no-write")
    parser.add_argument("--log-dir", help="keep the servers' logs here (default: deleted)")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument("--serve-noop", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    return parser


def options_of(args: argparse.Namespace) -> Options:
    base = SMOKE if args.smoke else DEFAULTS
    encodings = tuple(e.strip() for e in str(args.encodings).split(",") if e.strip())
    if not encodings or any(e not in ENCODINGS for e in encodings):
        raise SystemExit("error: --encodings takes otlp and/or native")
    try:
        concurrency = tuple(int(c) for c in str(args.concurrency).split(",") if c.strip())
    except ValueError:
        raise SystemExit("error: --concurrency takes whole numbers") from None
    env = tuple(tuple(setting.split("=", 1)) for setting in args.env)
    if any(len(pair) != 2 or not pair[0].startswith("AGENTTRACE_") for pair in env):
        raise SystemExit("error: --env takes AGENTTRACE_NAME=VALUE")
    options = Options(
        encodings=tuple(e for e in ENCODINGS if e in encodings),
        concurrency=concurrency,
        duration_s=base.duration_s if args.duration is None else args.duration,
        warmup_s=base.warmup_s if args.warmup is None else args.warmup,
        rounds=base.rounds if args.rounds is None else args.rounds,
        bodies=base.bodies if args.bodies is None else args.bodies,
        env=tuple((k, v) for k, v in env),
        processes=args.processes,
    )
    if not concurrency or any(c < 1 for c in concurrency):
        raise SystemExit("error: --concurrency needs numbers of at least 1")
    if options.duration_s <= 0 or options.warmup_s < 0 or options.rounds < 1:
        raise SystemExit("error: --duration and --rounds must be positive, --warmup not negative")
    if options.bodies < 1:
        raise SystemExit("error: --bodies must be at least 1")
    if options.processes < 1:
        raise SystemExit("error: --processes must be at least 1")
    return options


def plot(result: Result) -> str:
    """Requests/s against clients, ingest and its ceiling per encoding (docs/plots)."""
    series: dict[str, list[tuple[float, float]]] = {}
    for point in result.points:
        series.setdefault(f"ingest, {point.encoding}", []).append(
            (point.clients, point.ingest.per_second)
        )
        series.setdefault(f"no-op ceiling, {point.encoding}", []).append(
            (point.clients, point.ceiling.per_second)
        )
    return throughput_plot(
        "ingest-throughput",
        "Ingest: requests/s (10-span traces) by concurrent clients",
        "concurrent clients",
        "requests/s",
        series,
    )


async def _main(args: argparse.Namespace, options: Options, log_dir: Path) -> None:
    result = await run(options, log_dir=log_dir)
    table = rows(result)
    print(markdown_table(table))
    if not (args.no_write or args.smoke):
        path = write_section(
            SECTION,
            table,
            notes(result, options, command_line(args)) + "\n\n" + plot(result),
            versions={"Kafka": kafka_version(), "PostgreSQL": _postgres_note()},
        )
        print(f"wrote the {SECTION!r} section of {path.relative_to(ROOT)}", file=sys.stderr)


def _postgres_note() -> str | None:
    from bench.report import postgres_version

    version = postgres_version()
    return None if version is None else f"{version} (devservices)"


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.serve_noop:
        if args.port is None:
            sys.exit("error: --serve-noop needs --port")
        serve_noop(args.port)
        return
    options = options_of(args)
    with log_directory(args.log_dir, "ingest") as log_dir:
        asyncio.run(_main(args, options, log_dir))


if __name__ == "__main__":
    main()
