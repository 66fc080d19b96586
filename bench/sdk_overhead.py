"""The SDK overhead benchmark: what a traced call costs the caller's thread.

    python -m bench.sdk_overhead            # 20 rounds of 20,000 calls per tracer (~1 min)
    python -m bench.sdk_overhead --smoke    # a second or two, no write

The same small function (two arguments in, a short list out) is called plain, under
``agenttrace_sdk``'s ``@trace`` and under the OpenTelemetry SDK's
``tracer.start_as_current_span`` decorator. Both tracers do the same work per call: a
span with the arguments as JSON input and the return value as JSON output, ended and
handed to a batch processor whose background thread exports to a no-op exporter
(agenttrace: its ``BatchProcessor`` with a transport that discards the gzipped body;
OpenTelemetry: ``BatchSpanProcessor`` with a ``SpanExporter`` that returns SUCCESS).
Both background threads run during the measurement, so their share of the GIL is in the
figures, as it would be in an application; each processor's queue holds a whole round and
is drained between rounds, outside the timing, so neither drops a span.

Rounds alternate the three variants so drift hits them alike. A sample is one round's
mean ns per call; the table shows each variant's p50 over rounds, the p50 of its overhead
over the plain call (the same round's plain call subtracted), and the ratio of overheads,
agenttrace over OpenTelemetry (below 1: cheaper). Prints the table and rewrites the
"SDK: per-span overhead" section of docs/benchmarks.md (not with --smoke or --no-write).
"""

from __future__ import annotations

import argparse
import gc
import json
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import agenttrace_sdk as at
from agenttrace_sdk import spans as sdk_spans
from agenttrace_sdk.config import Config
from agenttrace_sdk.processor import BatchProcessor
from agenttrace_sdk.transport import SENT, Outcome
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import get_current_span

from bench.report import ROOT, markdown_table, write_section

SECTION = "SDK: per-span overhead"
VARIANTS = ("plain call", "agenttrace_sdk @trace", "OpenTelemetry SDK")


@dataclass(frozen=True)
class Options:
    rounds: int = 20
    calls: int = 20_000


SMOKE = Options(rounds=3, calls=500)


class DiscardTransport:
    """agenttrace's exporter end, minus the network: the body is built, then dropped."""

    def __init__(self) -> None:
        self.bodies = 0

    def send(self, body: bytes, timeout_s: float | None = None) -> Outcome:
        self.bodies += 1
        return Outcome(SENT)


class DiscardExporter(SpanExporter):
    """OpenTelemetry's exporter end, minus the network."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def work(query: str, k: int) -> list[str]:
    return [query] * k


@dataclass
class Result:
    samples: dict[str, list[float]]  # variant -> ns per call, one per round
    agenttrace_spans: int
    otel_spans: int
    dropped: int


def _round(call: Callable[[str, int], list[str]], calls: int) -> float:
    gc.collect()
    started = time.perf_counter_ns()
    for i in range(calls):
        call("what is the capital of France?", i & 3)
    return (time.perf_counter_ns() - started) / calls


def run(options: Options) -> Result:
    # Both processors: a queue that holds a round, batches of 512, a 1 s schedule; each
    # round starts empty (flushed outside the timing), so neither tracer drops a span.
    queue = max(options.calls, 512) + 1
    config = Config(api_key="bench", max_queue_size=queue, max_batch_size=512)
    processor = BatchProcessor(config, DiscardTransport())
    previous = sdk_spans.install(sdk_spans.Runtime(processor))
    traced = at.trace(name="work", kind="TOOL")(work)

    exporter = DiscardExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter, max_queue_size=queue, max_export_batch_size=512, schedule_delay_millis=1000
        )
    )
    tracer = provider.get_tracer("bench")

    @tracer.start_as_current_span("work")
    def otel_work(query: str, k: int) -> list[str]:
        span = get_current_span()
        span.set_attribute("input", json.dumps({"query": query, "k": k}))
        result = work(query, k)
        span.set_attribute("output", json.dumps(result))
        return result

    calls: dict[str, Callable[[str, int], list[str]]] = {
        VARIANTS[0]: work,
        VARIANTS[1]: traced,
        VARIANTS[2]: otel_work,
    }
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}

    def drain() -> None:
        processor.flush(60)
        provider.force_flush(60_000)

    try:
        for call in calls.values():  # warm-up, not counted
            _round(call, max(100, options.calls // 10))
            drain()
        for _ in range(options.rounds):
            for name, call in calls.items():
                samples[name].append(_round(call, options.calls))
                drain()
        stats = processor.stats()
    finally:
        processor.shutdown(10)
        provider.shutdown()
        sdk_spans.install(previous)
    return Result(samples, stats.exported, exporter.spans, stats.dropped)


def rows(result: Result) -> list[dict[str, Any]]:
    plain = result.samples[VARIANTS[0]]
    overheads = {
        name: [s - p for s, p in zip(result.samples[name], plain, strict=True)]
        for name in VARIANTS[1:]
    }
    ours = statistics.median(overheads[VARIANTS[1]])
    theirs = statistics.median(overheads[VARIANTS[2]])
    table: list[dict[str, Any]] = []
    for name in VARIANTS:
        overhead = statistics.median(overheads[name]) if name in overheads else None
        table.append(
            {
                "variant": name,
                "ns/call p50": statistics.median(result.samples[name]),
                "overhead ns/span p50": overhead,
                "ratio to OpenTelemetry": ours / theirs if name == VARIANTS[1] else None,
            }
        )
    return table


def command_line(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "-m", "bench.sdk_overhead"]
    defaults = _parser().parse_args([])
    for name in ("rounds", "calls"):
        if getattr(args, name) != getattr(defaults, name):
            parts += [f"--{name}", str(getattr(args, name))]
    if args.smoke:
        parts.append("--smoke")
    return " ".join(shlex.quote(p) for p in parts)


def notes(result: Result, options: Options, command: str) -> str:
    return "\n".join(
        [
            f"{options.rounds} rounds of {options.calls:,} calls per variant, interleaved;"
            " p50 over rounds of each round's mean. Overhead = the variant minus the plain"
            " call of the same round. Both tracers capture the two arguments and the"
            " return value as JSON and hand each ended span to their batch processor,"
            " whose background thread exports to a no-op exporter during the run (queues"
            " sized to hold a round, drained between rounds outside the timing)"
            f" ({result.agenttrace_spans:,} agenttrace spans exported, {result.dropped:,}"
            f" dropped; {result.otel_spans:,} OpenTelemetry spans). agenttrace_sdk"
            f" {at.__version__}, opentelemetry-sdk {version('opentelemetry-sdk')}. Ratio"
            " below 1: the agenttrace decorator costs the caller less.",
            "",
            "```bash",
            command,
            "```",
        ]
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sdk_overhead",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=Options.rounds)
    parser.add_argument("--calls", type=int, default=Options.calls, help="calls per round")
    parser.add_argument("--smoke", action="store_true", help="a tiny run; implies --no-write")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    options = SMOKE if args.smoke else Options(rounds=args.rounds, calls=args.calls)
    if options.rounds < 1 or options.calls < 1:
        raise SystemExit("error: --rounds and --calls must be positive")
    result = run(options)
    table = rows(result)
    print(markdown_table(table))
    if not (args.no_write or args.smoke):
        path = write_section(
            SECTION,
            table,
            notes(result, options, command_line(args)),
            versions={"PostgreSQL": None, "Kafka": None},
        )
        print(f"wrote the {SECTION!r} section of {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
