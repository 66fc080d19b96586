"""Arize Phoenix side by side: the same OTLP workload into Phoenix and into AgentTrace, in
one run, one server after the other for every figure.

    python -m bench.phoenix              # 20,000 spans, ~4 minutes
    python -m bench.phoenix --smoke      # tiny sizes, no write: about a minute

Starts both servers (bench/phoenix_servers.py): ``phoenix serve`` from .venv-phoenix
(``scripts/bootstrap.sh dev`` makes it from bench/phoenix-requirements.txt) on its defaults
(SQLite in a throwaway working directory, no auth) and ``agenttrace serve`` on a fresh
``--data-dir`` (embedded PostgreSQL). Then, each figure on Phoenix and then on AgentTrace:

1. ingest to queryable: ``--spans`` spans of default 10-span traces (bench/workload.py),
   as OTLP protobuf bodies of ``--traces-per-post`` traces POSTed to ``/v1/traces`` by
   ``--clients`` concurrent clients (a 429/503 is retried after its Retry-After, or 0.25 s);
   the time from the first send until the server's GraphQL span count has every span;
2. bytes per trace after VACUUM (bench/phoenix_servers.py says what is counted);
3. ``--detail-traces`` 100-span traces more, then the latency of opening a 10- and a
   100-span trace with each UI's own query and of a failed-trace list
   (bench/phoenix_queries.py), interleaved in rounds;
4. the memory of each server's processes;
5. overload with the stock OpenTelemetry exporter from ``--overload-clients`` processes
   (bench/phoenix_overload.py), and what each server kept.

Prints the tables and rewrites the "Arize Phoenix side by side" section of
docs/benchmarks.md (not with ``--smoke`` or ``--no-write``).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import aiohttp

from bench.phoenix_overload import Overload, overload
from bench.phoenix_queries import (
    Latencies,
    error_list,
    measure,
    phoenix_trace_detail_query,
    trace_detail,
)
from bench.phoenix_report import notes, overload_rows, rows
from bench.phoenix_servers import (
    Memory,
    Server,
    Storage,
    agenttrace,
    cpu_seconds,
    cpu_used,
    phoenix,
    phoenix_installed,
    phoenix_versions,
)
from bench.processes import log_directory
from bench.report import markdown_table, write_section
from bench.workload import GeneratedTrace, Workload, otlp_bytes

SECTION = "Arize Phoenix side by side"
ROOT = Path(__file__).resolve().parent.parent
LOAD = Workload(seed=21)
"""The ingest load: default 10-span traces."""
DETAIL = Workload(seed=22, spans_per_trace=100)
"""The 100-span traces opened by the trace-detail figure."""

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Options:
    spans: int = 20_000
    traces_per_post: int = 50
    """Traces per OTLP body: 500 spans, about what a BatchSpanProcessor sends (512)."""
    clients: int = 4
    detail_traces: int = 10
    requests: int = 120
    """Per read figure and server."""
    rounds: int = 5
    warmup: int = 5
    overload_clients: int = 4
    overload_rate: float = 6_000.0
    """Spans/s offered by all overload clients together."""
    overload_s: float = 10.0
    overload_drain_s: float = 15.0
    """After the overload, at most this long for the server to make what it acknowledged
    queryable, before it is stopped."""
    queryable_timeout_s: float = 600.0


DEFAULTS = Options()
SMOKE = Options(
    spans=600,
    traces_per_post=10,
    clients=2,
    detail_traces=2,
    requests=6,
    rounds=2,
    warmup=1,
    overload_clients=2,
    overload_rate=1_000.0,
    overload_s=2.0,
    overload_drain_s=10.0,
    queryable_timeout_s=120.0,
)


@dataclass(slots=True)
class Ingest:
    spans: int
    posts: int
    acked_s: float = 0.0
    """From the first send until every POST was answered 2xx."""
    queryable_s: float = 0.0
    """From the first send until the span count had every span."""
    refused: int = 0
    """429 and 503 answers (each retried)."""
    retry_after: int = 0
    """Refusals that carried Retry-After."""
    python_cpu_s: float = 0.0
    """CPU time of the server's Python processes from the first send to queryable."""
    database_cpu_s: float = 0.0
    """And of its database's own processes (none for Phoenix's in-process SQLite)."""

    @property
    def spans_per_s(self) -> float:
        return self.spans / self.queryable_s


@dataclass(slots=True)
class Side:
    """Every figure of one server."""

    name: str
    ingest: Ingest | None = None
    storage: Storage | None = None
    traces: int = 0
    memory: Memory | None = None
    database_memory: Memory | None = None
    overload: Overload | None = None


@dataclass(slots=True)
class Result:
    options: Options
    phoenix_version: str
    sqlite_version: str
    agenttrace_durability: str = ""
    sides: dict[str, Side] = field(default_factory=dict)
    latencies: Latencies = field(default_factory=Latencies)
    load_average: tuple[float, float] = (0.0, 0.0)


def _load_average() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


# --- 1. ingest to queryable -------------------------------------------------------------


async def _post_all(
    session: aiohttp.ClientSession, server: Server, bodies: Iterator[bytes], ingest: Ingest
) -> None:
    headers = {**server.headers, "content-type": "application/x-protobuf"}
    for body in bodies:
        while True:
            async with session.post(server.ingest_url, data=body, headers=headers) as response:
                await response.read()
            if 200 <= response.status < 300:
                break
            if response.status not in (429, 503):
                raise RuntimeError(f"{server.name}: POST /v1/traces answered {response.status}")
            ingest.refused += 1
            retry_after = response.headers.get("retry-after")
            ingest.retry_after += retry_after is not None
            await asyncio.sleep(float(retry_after) if retry_after else 0.25)


def poll_interval(elapsed_s: float) -> float:
    """1% of the time waited so far, between 50 ms and 1 s: a fine resolution for a fast
    server, and no noticeable load on a slow one (each poll is a GraphQL request)."""
    return min(1.0, max(0.05, elapsed_s / 100))


async def until_queryable(
    server: Server,
    session: aiohttp.ClientSession,
    count: int,
    timeout_s: float,
    sending: asyncio.Future[Any] | None = None,
) -> None:
    """Polls the server's span count until it reaches ``count``; raises what ``sending``
    raised, or RuntimeError after ``timeout_s``."""
    started = time.monotonic()
    while (seen := await server.span_count(session)) < count:
        if sending is not None and sending.done() and sending.exception() is not None:
            await sending
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(f"{server.name}: {seen} of {count} spans queryable")
        await asyncio.sleep(poll_interval(time.monotonic() - started))


async def ingest(server: Server, bodies: Sequence[bytes], spans: int, options: Options) -> Ingest:
    """POSTs ``bodies`` (``spans`` spans) with ``options.clients`` clients; the times from
    the first send until all were acknowledged and until all were queryable."""
    result = Ingest(spans, len(bodies))
    shared = iter(bodies)  # each client takes the next body
    async with aiohttp.ClientSession() as senders, aiohttp.ClientSession() as poller:
        before = await server.span_count(poller)
        python_before = cpu_seconds(server.python_pids())
        database_before = cpu_seconds(server.database_pids())
        started = time.perf_counter()
        sending: asyncio.Future[list[None]] = asyncio.gather(
            *(_post_all(senders, server, shared, result) for _ in range(options.clients))
        )
        sending.add_done_callback(
            lambda _: setattr(result, "acked_s", time.perf_counter() - started)
        )
        try:
            await until_queryable(
                server, poller, before + spans, options.queryable_timeout_s, sending
            )
            result.queryable_s = time.perf_counter() - started
            result.python_cpu_s = cpu_used(python_before, cpu_seconds(server.python_pids()))
            result.database_cpu_s = cpu_used(database_before, cpu_seconds(server.database_pids()))
        finally:
            await sending
    return result


def _bodies(traces: Sequence[GeneratedTrace], per_post: int) -> list[bytes]:
    return [otlp_bytes(traces[i : i + per_post]) for i in range(0, len(traces), per_post)]


def _failed(traces: Sequence[GeneratedTrace]) -> int:
    """Traces with at least one failed span."""
    return sum(any(span.status == "ERROR" for span in trace.spans) for trace in traces)


# --- the run --------------------------------------------------------------------------


async def run(options: Options, *, log_dir: Path, say: Say | None = None) -> Result:
    started = time.monotonic()
    say = say or (
        lambda message: print(
            f"[{time.monotonic() - started:5.1f} s] {message}", file=sys.stderr, flush=True
        )
    )
    version, sqlite_version = phoenix_versions()
    result = Result(options, version, sqlite_version)
    generated = list(LOAD.traces_for_spans(options.spans))
    traces = len(generated)
    load = _bodies(generated, options.traces_per_post)
    detail = [DETAIL.trace(i) for i in range(options.detail_traces)]
    detail_bodies = [otlp_bytes([trace]) for trace in detail]
    say(f"{len(load)} OTLP bodies of {options.spans:,} spans ({sum(map(len, load)):,} bytes)")

    async with AsyncExitStack() as stack:
        phoenix_server = await stack.enter_async_context(phoenix(log_dir))
        ours = await stack.enter_async_context(agenttrace(log_dir))
        servers: list[Server] = [phoenix_server, ours]
        say("starting Arize Phoenix and agenttrace serve")
        async with asyncio.TaskGroup() as group:
            for server in servers:
                group.create_task(server.ready())
        result.agenttrace_durability = await ours.durability()
        result.load_average = (_load_average(), 0.0)
        sides = {server.name: Side(server.name) for server in servers}
        result.sides = sides

        for server in servers:
            say(f"{server.name}: ingest to queryable, {options.spans:,} spans")
            sides[server.name].ingest = await ingest(server, load, options.spans, options)
        for server in servers:
            sides[server.name].storage = await server.storage()
            sides[server.name].traces = traces

        say(f"reads: {options.requests} requests per figure and server")
        async with aiohttp.ClientSession() as session:
            for server in servers:
                expected = await server.span_count(session) + 100 * len(detail_bodies)
                await ingest(server, detail_bodies, 100 * len(detail_bodies), options)
                await until_queryable(server, session, expected, 120)
        phoenix_query = phoenix_trace_detail_query()
        small = [trace.trace_id for trace in generated[:200] if len(trace.spans) == 10]
        failed = _failed(generated) + _failed(detail)
        figures = [
            trace_detail(servers, 10, small, phoenix_query),
            trace_detail(servers, 100, [t.trace_id for t in detail], phoenix_query),
            error_list(servers, failed),
        ]
        result.latencies = await measure(
            servers,
            figures,
            requests=options.requests,
            rounds=options.rounds,
            warmup=options.warmup,
        )

        for server in servers:
            sides[server.name].memory = Memory.of(server.python_pids())
            if database := server.database_pids():
                sides[server.name].database_memory = Memory.of(database)

        for server in servers:
            say(
                f"{server.name}: overload, {options.overload_rate:,.0f} spans/s from"
                f" {options.overload_clients} exporters for {options.overload_s:g} s"
            )
            sides[server.name].overload = await overload(
                server,
                clients=options.overload_clients,
                rate=options.overload_rate,
                duration_s=options.overload_s,
                drain_s=options.overload_drain_s,
                log_dir=log_dir,
            )
        result.load_average = (result.load_average[0], _load_average())
    return result


# --- the command line ---------------------------------------------------------------------


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run."""
    parts = [".venv/bin/python", "-m", "bench.phoenix"]
    for name, value in vars(args).items():
        if name in ("smoke", "no_write", "log_dir") or value is None:
            continue
        parts += [f"--{name.replace('_', '-')}", str(value)]
    if args.smoke:
        parts.append("--smoke")
    return shlex.join(parts)


_HELP = {
    "spans": "spans in the ingest load (default traces of 10 spans)",
    "traces_per_post": "traces per OTLP body",
    "clients": "concurrent ingest clients",
    "detail_traces": "100-span traces to open",
    "requests": "requests per read figure and server",
    "rounds": "rounds the reads are interleaved in",
    "warmup": "unmeasured requests per read figure and server",
    "overload_clients": "exporter processes of the overload",
    "overload_rate": "spans/s offered by all of them together",
    "overload_s": "seconds of overload",
    "overload_drain_s": "seconds at most after it for the server to store what it acknowledged",
    "queryable_timeout_s": "seconds to wait for every span to be queryable",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.phoenix",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for option in fields(Options):
        default = getattr(DEFAULTS, option.name)
        parser.add_argument(
            f"--{option.name.replace('_', '-')}",
            type=type(default),
            help=f"{_HELP[option.name]} (default {default:g}; --smoke"
            f" {getattr(SMOKE, option.name):g})",
        )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; implies --no-write")
    parser.add_argument("--log-dir", help="keep the servers' and clients' logs here")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return parser


def options_of(args: argparse.Namespace) -> Options:
    base = SMOKE if args.smoke else DEFAULTS
    given = {
        option.name: getattr(args, option.name)
        for option in fields(Options)
        if getattr(args, option.name) is not None
    }
    options = replace(base, **given)
    if any(
        getattr(options, option.name) <= 0 for option in fields(Options) if option.name != "warmup"
    ):
        raise SystemExit("error: every size must be positive")
    return options


async def _main(args: argparse.Namespace, options: Options, log_dir: Path) -> None:
    if not phoenix_installed():
        raise SystemExit("error: no .venv-phoenix; run scripts/bootstrap.sh dev")
    result = await run(options, log_dir=log_dir)
    table = rows(result)
    print(markdown_table(table))
    print()
    print(markdown_table(overload_rows(result)))
    if not (args.no_write or args.smoke):
        path = write_section(
            SECTION,
            table,
            notes(result, command_line(args)),
            versions={
                "Arize Phoenix": result.phoenix_version,
                "SQLite": result.sqlite_version,
                "Kafka": None,
            },
        )
        print(f"wrote the {SECTION!r} section of {path.relative_to(ROOT)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    options = options_of(args)
    with log_directory(args.log_dir, "phoenix") as log_dir:
        asyncio.run(_main(args, options, log_dir))


if __name__ == "__main__":
    main()
