"""Clients under a low ingest rate limit, against a real ``serve`` (which counts in
memory, having no Redis): the SDK and OpenTelemetry's stock OTLP/HTTP exporter both get
429 with Retry-After, wait, and get every span through exactly once, while the
application goes on without waiting for them."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import agenttrace_sdk as at
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from tests.processes import wait_until
from tests.sdk.conftest import Serve

SPANS_PER_S = 20
SPANS_PER_TRACE = 3
TRACES = 20
"""60 spans, sent 10 to a request: three seconds' worth of the limit."""


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    for key in [k for k in os.environ if k.startswith("AGENTTRACE_")]:
        os.environ.pop(key)
    server = Serve(
        tmp_path_factory.mktemp("sdk-limited") / "data",
        {"AGENTTRACE_RATE_LIMIT_INGEST_SPANS_PER_S": str(SPANS_PER_S)},
    )
    server.start()
    yield server
    if server.api is not None:
        server.api.http.close()
    server.stop()


def _produce_trace(i: int) -> str:
    with at.span(f"agent-{i}", kind="AGENT") as root:
        for step in range(SPANS_PER_TRACE - 1):
            with at.span(f"tool-{step}", kind="TOOL"):
                pass
    return root.trace_id


def _span_counts(serve: Serve, trace_ids: list[str]) -> list[int]:
    assert serve.api is not None
    counts = []
    for trace_id in trace_ids:
        trace = serve.api.trace(trace_id)
        counts.append(0 if trace is None else len(trace["spans"]))
    return counts


def test_the_sdk_waits_out_429s_and_every_span_arrives_once(limited: Serve) -> None:
    assert limited.api is not None
    at.init(
        api_key=limited.api.api_key,
        endpoint=limited.base_url,
        max_batch_size=10,
        schedule_delay_s=0.1,
        live_threshold_s=-1,  # only complete spans, so every span is exported exactly once
    )
    try:
        sent = [_produce_trace(i) for i in range(TRACES)]
        total = TRACES * SPANS_PER_TRACE
        # The application is done while the exporter still waits out the limit.
        assert at.stats().exported < total
        wait_until(lambda: at.stats().exported >= total, 120, lambda: f"{at.stats()}")
        stats = at.stats()
        assert stats.exported == total
        assert stats.dropped == 0
        assert stats.retries > 0
        assert stats.last_error is not None
        assert "HTTP 429" in stats.last_error
        assert "ingest spans/s limit" in stats.last_error
    finally:
        at.shutdown(10)
    wait_until(
        lambda: _span_counts(limited, sent) == [SPANS_PER_TRACE] * TRACES,
        60,
        lambda: f"stored spans per trace: {_span_counts(limited, sent)}",
    )


def test_the_stock_otlp_exporter_waits_out_429s_and_gets_every_span_through(
    limited: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    assert limited.api is not None
    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=f"{limited.base_url}/v1/traces", headers=limited.api.auth)
    provider.add_span_processor(
        BatchSpanProcessor(exporter, max_export_batch_size=10, schedule_delay_millis=100)
    )
    tracer = provider.get_tracer("rate-limited")
    sent = []
    with caplog.at_level(logging.WARNING):
        try:
            for i in range(TRACES):
                with tracer.start_as_current_span(f"agent-{i}") as root:
                    for step in range(SPANS_PER_TRACE - 1):
                        with tracer.start_as_current_span(f"tool-{step}"):
                            pass
                sent.append(format(root.get_span_context().trace_id, "032x"))
            assert provider.force_flush(120_000)
        finally:
            provider.shutdown()
    assert "Too Many Requests" in caplog.text  # it was refused, waited, and retried
    assert "Failed to export" not in caplog.text
    wait_until(
        lambda: _span_counts(limited, sent) == [SPANS_PER_TRACE] * TRACES,
        60,
        lambda: f"stored spans per trace: {_span_counts(limited, sent)}",
    )
