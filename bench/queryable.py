"""The ingest-to-queryable benchmark: how long until every span of a load can be queried.

    python -m bench.queryable                          # both modes, 20,000 and 200,000 spans
    python -m bench.queryable --mode embedded --smoke  # 200 and 1,000 spans, no write

For each mode, the same deployments as bench/live.py: ``embedded`` is ``agenttrace serve``
on a fresh ``--data-dir``; ``distributed`` is devservices Kafka, Redis and PostgreSQL with
one ``ingest``, one ``worker`` and two ``api`` processes. Each load (``--loads``, in spans)
is default 10-span traces of bench/workload.py, sent as the stock exporter sends them:
OTLP protobuf, ``--traces-per-request`` traces (500 spans, about the BatchSpanProcessor's
512) a ``POST /v1/traces``, by ``--clients`` closed-loop clients, as fast as ingest takes
them (a non-2xx answer is retried after ``Retry-After``, as the exporter does).

Two clocks from the first POST: **accepted** = until the last POST got its 2xx (ingest
alone: the load is durably queued), **queryable** = until PostgreSQL, which the query API
reads, holds every trace of the load with all its spans (``traces.span_count``, written in
the same transaction as the spans; polled every ``POLL_S``). **ratio** = queryable
spans/s over accepted spans/s, the same load in the same run: 1.0 means storing keeps up
with ingest. After the last load one trace is read back through ``GET
/api/v1/traces/{id}`` of an api process, and the stored spans are counted: every span
sent must be there once.

Prints the table and rewrites the "Ingest to queryable" section of docs/benchmarks.md
(not with ``--smoke`` or ``--no-write``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from agenttrace.settings import Settings
from bench.live import (
    MODES,
    Mode,
    Target,
    busy_share,
    cpu_times,
    distributed,
    embedded,
    redis_version,
)
from bench.processes import log_directory
from bench.report import kafka_version, markdown_table, write_section
from bench.workload import GeneratedTrace, Workload, otlp_bytes
from devservices import DevServices
from storage.projects import hash_key

SECTION = "Ingest to queryable"
ROOT = Path(__file__).resolve().parent.parent
WORKLOAD = Workload(seed=41)
"""The traces sent (``now_ns`` replaced by the run's start, so they are recent)."""
POLL_S = 0.1
OTLP = "application/x-protobuf"


@dataclass(frozen=True, slots=True)
class Options:
    modes: tuple[Mode, ...] = MODES
    loads: tuple[int, ...] = (20_000, 200_000)
    """Spans per load; each load is new traces."""
    clients: int = 4
    traces_per_request: int = 50
    timeout_s: float = 300.0
    """After the last 2xx: a load not queryable by then fails the run."""
    env: tuple[tuple[str, str], ...] = ()


DEFAULTS = Options()
SMOKE = Options(loads=(200, 1_000), clients=2, traces_per_request=5, timeout_s=60.0)


# --- the load -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes
    trace_ids: tuple[str, ...]
    spans: int


def bodies(traces: Sequence[GeneratedTrace], per_request: int) -> list[Body]:
    return [
        Body(
            otlp_bytes(chunk),
            tuple(t.trace_id for t in chunk),
            sum(len(t.spans) for t in chunk),
        )
        for chunk in (traces[i : i + per_request] for i in range(0, len(traces), per_request))
    ]


@dataclass(slots=True)
class Sent:
    requests: int = 0
    retries: int = 0
    first_problem: str | None = None


async def _post_until_accepted(
    session: aiohttp.ClientSession, url: str, key: str, body: Body, sent: Sent
) -> None:
    headers = {"Authorization": f"Bearer {key}", "content-type": OTLP}
    for attempt in itertools.count():
        try:
            async with session.post(url, data=body.data, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    sent.requests += 1
                    return
                problem = f"HTTP {response.status}"
                wait = float(response.headers.get("Retry-After", "0.2") or 0.2)
        except (aiohttp.ClientError, TimeoutError) as exc:
            problem, wait = repr(exc), 0.2
        sent.retries += 1
        sent.first_problem = sent.first_problem or problem
        if attempt >= 20:
            raise RuntimeError(f"a POST was refused 20 times; the first: {sent.first_problem}")
        await asyncio.sleep(wait)


async def send(
    session: aiohttp.ClientSession, target: Target, load: Sequence[Body], clients: int
) -> Sent:
    """Closed loop: ``clients`` tasks, each POSTing the next body as soon as its last one
    was accepted."""
    url = f"{target.ingest_url}/v1/traces"
    queue: Iterator[Body] = iter(load)
    sent = Sent()

    async def client() -> None:
        for body in queue:
            await _post_until_accepted(session, url, target.api_key, body, sent)

    await asyncio.gather(*(client() for _ in range(clients)))
    return sent


async def _queryable(engine: AsyncEngine, project_id: str) -> tuple[int, int]:
    """(traces, spans) of the project in PostgreSQL, from the trace rows."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*), COALESCE(sum(span_count), 0) FROM traces"
                    " WHERE project_id = CAST(:p AS uuid)"
                ),
                {"p": project_id},
            )
        ).one()
    return int(row[0]), int(row[1])


async def project_of(engine: AsyncEngine, api_key: str) -> str:
    """The project the API key belongs to (api_keys holds the key's hash)."""
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT project_id::text FROM api_keys WHERE key_hash = :h"),
            {"h": hash_key(api_key)},
        )
    if found is None:
        raise RuntimeError("the API key's project was not found")
    return str(found)


# --- the figures ----------------------------------------------------------------------


@dataclass(slots=True)
class Load:
    mode: Mode
    spans: int
    traces: int
    requests: int
    retries: int
    accepted_s: float
    queryable_s: float
    stored_spans: int
    cpu_busy: float
    first_problem: str | None = None


@dataclass(slots=True)
class Result:
    loads: list[Load] = field(default_factory=list)
    read_back: dict[str, int] = field(default_factory=dict)
    """Per mode: the spans of one trace as ``GET /api/v1/traces/{id}`` returned them."""
    body_bytes: float = 0.0
    load_average: tuple[float, float] = (0.0, 0.0)
    redis_version: str | None = None


Say = Callable[[str], None]


def _api_url(target: Target) -> str:
    """An api process (distributed) or ``serve`` (embedded): where queries go."""
    return target.subscribers[0][1].replace("ws://", "http://").removesuffix("/graphql")


async def measure(
    target: Target, options: Options, loads: Sequence[list[Body]], say: Say
) -> tuple[list[Load], int]:
    engine = create_async_engine(target.database_url, pool_size=1)
    try:
        project_id = await project_of(engine, target.api_key)
        base_traces, base_spans = await _queryable(engine, project_id)
        expected = base_spans + sum(b.spans for load in loads for b in load)
        results = []
        timeout = aiohttp.ClientTimeout(total=120)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            for load in loads:
                traces = sum(len(b.trace_ids) for b in load)
                spans = sum(b.spans for b in load)
                say(f"{target.mode}: {spans:,} spans in {len(load):,} requests")
                want_traces, want_spans = base_traces + traces, base_spans + spans
                before = cpu_times()
                started = time.monotonic()
                sending = asyncio.create_task(send(session, target, load, options.clients))
                accepted_s = math.nan
                while True:
                    if sending.done() and math.isnan(accepted_s):
                        accepted_s = time.monotonic() - started
                        sent = sending.result()
                    now = time.monotonic()
                    found_traces, found_spans = await _queryable(engine, project_id)
                    if found_traces >= want_traces and found_spans >= want_spans:
                        if math.isnan(accepted_s):
                            sent = await sending
                            accepted_s = time.monotonic() - started
                        queryable_s = now - started
                        break
                    if (
                        not math.isnan(accepted_s)
                        and now - started - accepted_s > options.timeout_s
                    ):
                        raise RuntimeError(
                            f"{target.mode}: {found_spans - base_spans:,} of {spans:,} spans"
                            f" queryable {options.timeout_s:g} s after the last was accepted"
                        )
                    await asyncio.sleep(POLL_S)
                busy = busy_share(before, cpu_times())
                base_traces, base_spans = found_traces, found_spans
                results.append(
                    Load(
                        mode=target.mode,
                        spans=spans,
                        traces=traces,
                        requests=sent.requests,
                        retries=sent.retries,
                        accepted_s=accepted_s,
                        queryable_s=max(queryable_s, accepted_s),
                        stored_spans=found_spans,
                        cpu_busy=busy,
                        first_problem=sent.first_problem,
                    )
                )
            read_back = await _read_back(session, target, loads[-1][-1].trace_ids[-1])
        stored = await _stored_spans(engine, project_id)
        if stored != expected:
            raise RuntimeError(f"{target.mode}: {stored:,} spans stored, {expected:,} expected")
    finally:
        await engine.dispose()
    return results, read_back


async def _stored_spans(engine: AsyncEngine, project_id: str) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            text("SELECT count(*) FROM spans WHERE project_id = CAST(:p AS uuid)"),
            {"p": project_id},
        )
    return int(count or 0)


async def _read_back(session: aiohttp.ClientSession, target: Target, trace_id: str) -> int:
    """The spans of ``trace_id`` through the REST API of an api process."""
    headers = {"Authorization": f"Bearer {target.api_key}"}
    url = f"{_api_url(target)}/api/v1/traces/{trace_id}"
    async with session.get(url, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"GET {url}: HTTP {response.status}")
        document = await response.json()
    return len(document["spans"])


async def run(
    options: Options,
    *,
    log_dir: Path,
    services: DevServices | None = None,
    progress: bool = True,
) -> Result:
    def say(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    result = Result()
    start_load = os.getloadavg()[0]
    workload = Workload(
        seed=WORKLOAD.seed, spans_per_trace=WORKLOAD.spans_per_trace, now_ns=time.time_ns()
    )
    say(f"encoding {sum(options.loads):,} spans as OTLP")
    loads: list[list[Body]] = []
    first = 0
    for spans in options.loads:
        count = workload.trace_count(spans)
        traces = list(workload.traces(count, first))
        first += count
        loads.append(bodies(traces, options.traces_per_request))
    every = [b for load in loads for b in load]
    result.body_bytes = sum(len(b.data) for b in every) / len(every)
    settings = dict(options.env)
    for mode in options.modes:
        if mode == "embedded":
            say("embedded: starting agenttrace serve on a fresh data dir")
            async with embedded(log_dir, settings) as target:
                measured, read_back = await measure(target, options, loads, say)
        else:
            own = services is None
            started = DevServices().start() if services is None else services
            try:
                say("distributed: migrate, project create, ingest, worker, two api replicas")
                async with distributed(started, log_dir, settings) as target:
                    measured, read_back = await measure(target, options, loads, say)
            finally:
                if own:
                    started.stop()
            result.redis_version = redis_version()
        result.loads += measured
        result.read_back[mode] = read_back
    result.load_average = (start_load, os.getloadavg()[0])
    return result


# --- the report -----------------------------------------------------------------------


def _rate(spans: int, seconds: float) -> float | None:
    return spans / seconds if seconds > 0 else None


def rows(result: Result) -> list[dict[str, Any]]:
    table = []
    for load in result.loads:
        accepted = _rate(load.spans, load.accepted_s)
        queryable = _rate(load.spans, load.queryable_s)
        table.append(
            {
                "mode": load.mode,
                "spans": load.spans,
                "traces": load.traces,
                "requests": load.requests,
                "accepted s": load.accepted_s,
                "accepted spans/s": accepted,
                "queryable s": load.queryable_s,
                "queryable spans/s": queryable,
                "ratio": None if not accepted or queryable is None else queryable / accepted,
                "lag s": load.queryable_s - load.accepted_s,
                "retries": load.retries,
            }
        )
    return table


def command_line(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "-m", "bench.queryable"]
    defaults = _parser().parse_args([])
    for name in ("mode", "loads", "clients"):
        value = getattr(args, name)
        if value != getattr(defaults, name):
            parts += [f"--{name}", str(value)]
    if args.traces_per_request != defaults.traces_per_request:
        parts += ["--traces-per-request", str(args.traces_per_request)]
    for setting in args.env:
        parts += ["--env", setting]
    if args.smoke:
        parts.append("--smoke")
    return " ".join(shlex.quote(p) for p in parts)


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


def notes(result: Result, options: Options, command: str) -> str:
    loads = result.loads
    modes = list(dict.fromkeys(load.mode for load in loads))
    sent = sum(load.spans for load in loads if load.mode == modes[0]) if loads else 0
    retries = sum(load.retries for load in loads)
    problem = next((load.first_problem for load in loads if load.first_problem), None)
    answers = (
        "Every POST was accepted at the first try."
        if retries == 0
        else f"{retries:,} POSTs were refused and retried (the first: {problem})."
    )
    read_back = ", ".join(f"{mode} {spans}" for mode, spans in result.read_back.items())
    described = {
        "embedded": "**embedded** = `agenttrace serve` on a fresh `--data-dir` (embedded"
        " PostgreSQL, the in-process bus and storage worker).",
        "distributed": "**distributed** = devservices Kafka, Redis and PostgreSQL (fsync off),"
        " `agenttrace migrate`, `agenttrace project create`, one `ingest`, one `worker`"
        " and two `api` processes (as in the live benchmark); the POSTs go to ingest.",
    }
    busy = ", ".join(f"{load.mode} {load.spans:,} {load.cpu_busy:.0%}" for load in loads)
    lines = [
        " ".join(described[mode] for mode in modes)
        + f" Default settings (worker batches of up to {_default('worker_batch_max_messages')}"
        " messages).",
        "",
        f"Method: each load is new default 10-span traces of bench/workload.py as OTLP"
        f" protobuf, {options.traces_per_request} traces"
        f" ({options.traces_per_request * WORKLOAD.spans_per_trace} spans,"
        f" {result.body_bytes / 1000:,.0f} KB) a `POST /v1/traces`, as the stock exporter's"
        f" BatchSpanProcessor sends them (512 spans a batch at most), from"
        f" {options.clients} closed-loop clients, each sending its next request as soon as"
        f" the last was accepted; the loads one after the other. {answers}",
        "",
        "**accepted** = from the first POST to the last 2xx: ingest alone, the load durably"
        " queued (Kafka acks=all, or the embedded bus's table). **queryable** = from the"
        " first POST until PostgreSQL, which the query API reads, holds every trace of the"
        " load with all its spans (`count(*)` and `sum(span_count)` of the project's trace"
        " rows, written in the spans' own transaction, polled every"
        f" {POLL_S * 1000:.0f} ms). **ratio** = queryable spans/s over accepted spans/s of"
        " the same load in the same run (1.0: storing keeps up with ingest); **lag** ="
        " queryable minus accepted seconds.",
        "",
        f"Checks: after the loads, the project's spans were counted in each mode: all"
        f" {sent:,} sent, each stored once; and the last trace sent was read back through"
        f" `GET /api/v1/traces/{{id}}` of an api process with its spans ({read_back}).",
        "",
        "The clients, the servers, PostgreSQL and Kafka share the machine's 2 CPUs; busy"
        f" during each load (every process): {busy}. 1-minute load average"
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
        prog="python -m bench.queryable",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--mode", choices=["embedded", "distributed", "both"], default="both")
    parser.add_argument(
        "--loads",
        default=",".join(map(str, DEFAULTS.loads)),
        help="spans per load, comma-separated (default 20000,200000)",
    )
    parser.add_argument("--clients", type=int, default=DEFAULTS.clients)
    parser.add_argument("--traces-per-request", type=int, default=DEFAULTS.traces_per_request)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="AGENTTRACE_X=VALUE",
        help="a setting for every agenttrace process started (repeatable)",
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny run; implies --no-write")
    parser.add_argument("--log-dir", help="keep the processes' logs here (default: deleted)")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return parser


def options_of(args: argparse.Namespace) -> Options:
    defaults = _parser().parse_args([])
    base = SMOKE if args.smoke else DEFAULTS
    modes: tuple[Mode, ...] = MODES if args.mode == "both" else (args.mode,)
    try:
        loads = tuple(int(x) for x in str(args.loads).split(",") if x.strip())
    except ValueError:
        raise SystemExit("error: --loads takes whole numbers of spans") from None
    env = tuple(tuple(setting.split("=", 1)) for setting in args.env)
    if any(len(pair) != 2 or not pair[0].startswith("AGENTTRACE_") for pair in env):
        raise SystemExit("error: --env takes AGENTTRACE_NAME=VALUE")
    options = Options(
        modes=modes,
        loads=base.loads if args.loads == defaults.loads else loads,
        clients=base.clients if args.clients == defaults.clients else args.clients,
        traces_per_request=(
            base.traces_per_request
            if args.traces_per_request == defaults.traces_per_request
            else args.traces_per_request
        ),
        timeout_s=base.timeout_s,
        env=tuple((k, v) for k, v in env),
    )
    if not options.loads or any(x < 1 for x in options.loads):
        raise SystemExit("error: --loads needs positive numbers of spans")
    if options.clients < 1 or options.traces_per_request < 1:
        raise SystemExit("error: --clients and --traces-per-request must be at least 1")
    return options


async def _main(args: argparse.Namespace, options: Options, log_dir: Path) -> None:
    result = await run(options, log_dir=log_dir)
    table = rows(result)
    print(markdown_table(table))
    if not (args.no_write or args.smoke):
        versions: dict[str, str | None] = {"Kafka": None}
        if "distributed" in options.modes:
            versions = {"Kafka": kafka_version(), "Redis": result.redis_version}
        path = write_section(
            SECTION, table, notes(result, options, command_line(args)), versions=versions
        )
        print(f"wrote the {SECTION!r} section of {path.relative_to(ROOT)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    options = options_of(args)
    with log_directory(args.log_dir, "queryable") as log_dir:
        asyncio.run(_main(args, options, log_dir))


if __name__ == "__main__":
    main()
