"""One overload client of bench/phoenix.py (bench/phoenix_overload.py starts them):
replays bench/workload.py traces through the stock OpenTelemetry SDK and exporter at a
fixed rate, and counts what the exporter was told.

    python -m bench.phoenix_exporter --endpoint URL --rate 1500 --duration 20 --out FILE

A TracerProvider with the stock ``BatchSpanProcessor`` on its defaults (a queue of 2,048
spans, batches of 512) and the stock ``OTLPSpanExporter`` over HTTP/protobuf (a 10 s
timeout, retries with backoff on 429/502/503/504, honouring Retry-After). The exporter is
wrapped to count the spans of each export that returned SUCCESS (keeping their ids) and
those that returned FAILURE; the spans the processor's full queue dropped are the rest. A
requests session hook counts the HTTP statuses the server answered. Writes a JSON summary
to ``--out`` and the acknowledged span ids (64-bit, native order) beside it (``.ids``).

Imports only the SDK and the workload, so that it starts fast.
"""

from __future__ import annotations

import argparse
import array
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import requests
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode

from bench.workload import (
    SCOPE_NAME,
    SCOPE_VERSION,
    SERVICE_NAME,
    GeneratedTrace,
    Workload,
    otlp_attributes,
)

TRACE_POOL = 50
"""Distinct workload traces a client replays in turn (each replay gets new ids)."""


# --- the client process -------------------------------------------------------------------


class CountingExporter(SpanExporter):
    """The stock exporter, counting the spans of each export by its result."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.acked = array.array("Q")
        self.failed = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        if result is SpanExportResult.SUCCESS:
            self.acked.extend(s.context.span_id for s in spans if s.context is not None)
        else:
            self.failed += len(spans)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def replay(tracer: otel_trace.Tracer, generated: GeneratedTrace) -> int:
    """Creates the trace's spans (a new trace id, new span ids; its names, attributes,
    times, statuses and events); returns how many."""
    started: dict[str, otel_trace.Span] = {}
    for span in generated.spans:
        parent = started.get(span.parent_span_id or "")
        context = Context() if parent is None else otel_trace.set_span_in_context(parent)
        created = tracer.start_span(
            span.name,
            context=context,
            attributes=otlp_attributes(generated, span),
            start_time=span.start_time_unix_nano,
        )
        for event in span.events:
            created.add_event(event["name"], event["attributes"], event["time_unix_nano"])
        if span.status == "ERROR":
            created.set_status(Status(StatusCode.ERROR, span.status_message))
        started[span.span_id] = created
    for span in reversed(generated.spans):
        started[span.span_id].end(end_time=span.end_time_unix_nano)
    return len(generated.spans)


def run_client(
    endpoint: str, headers: dict[str, str], rate: float, duration_s: float, seed: int
) -> tuple[dict[str, Any], array.array[int]]:
    statuses: Counter[int] = Counter()
    retry_after = 0

    def count(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        nonlocal retry_after
        statuses[response.status_code] += 1
        retry_after += "retry-after" in response.headers

    session = requests.Session()
    session.hooks["response"].append(count)
    exporter = CountingExporter(
        OTLPSpanExporter(endpoint=endpoint, headers=headers, session=session)
    )
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer(SCOPE_NAME, SCOPE_VERSION)
    workload = Workload(seed=seed)
    pool = [workload.trace(i) for i in range(TRACE_POOL)]

    created = 0
    started = time.monotonic()
    while (now := time.monotonic()) < started + duration_s:
        due = started + created / rate
        if due > now:
            time.sleep(due - now)
        created += replay(tracer, pool[created % TRACE_POOL])
    offered_s = time.monotonic() - started
    provider.shutdown()
    summary = {
        "created": created,
        "acked": len(exporter.acked),
        "failed": exporter.failed,
        "offered_s": offered_s,
        "drain_s": time.monotonic() - started - offered_s,
        "statuses": {str(code): n for code, n in sorted(statuses.items())},
        "retry_after": retry_after,
    }
    return summary, exporter.acked


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.phoenix_overload")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--header", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--rate", type=float, required=True, help="spans/s")
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="the summary (JSON); ids beside it")
    args = parser.parse_args(argv)
    headers = dict(h.split("=", 1) for h in args.header)
    summary, acked = run_client(args.endpoint, headers, args.rate, args.duration, args.seed)
    out = Path(args.out)
    out.with_suffix(".ids").write_bytes(acked.tobytes())
    out.write_bytes(orjson.dumps(summary))


if __name__ == "__main__":
    main()
