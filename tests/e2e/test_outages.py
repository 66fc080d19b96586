"""Dependencies going away under load, with real processes (ingest, api, a worker) on
real Kafka, PostgreSQL and Redis: what clients saw acknowledged is counted against what
PostgreSQL holds afterwards.

- PostgreSQL stopped for 20 s: ingest keeps accepting into Kafka (API keys it saw lately
  keep their last answer), the worker retries and catches up, nothing lost or doubled.
- Redis stopped: ingest and storage go on (rate limits fail open, cache and live fan-out
  are skipped); live updates resume when it returns.
- Kafka restarted under load: ingest answers 503 with Retry-After, our SDK and the stock
  OpenTelemetry exporter retry, every acknowledged span is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from devservices import DevServices
from tests.e2e.distributed import Cluster, cluster
from tests.e2e.helpers import subscribed
from tests.payloads import agent_trace_spans, native_batch, new_trace_id
from tests.processes import wait_until

SPANS_PER_TRACE = 10


@pytest.fixture(scope="module")
def topology(services: DevServices, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(services, tmp_path_factory.mktemp("outages"), "outages") as started:
        worker = started.start_worker("worker")
        wait_until(lambda: "worker.partitions_assigned" in worker.output(), 60, worker.output)
        yield started


@dataclass
class Load:
    """A client sending one 10-span trace at a time until stopped, keeping what was
    acknowledged (2xx) and every status it got."""

    cluster: Cluster
    acknowledged: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        t0 = time.time_ns()
        while not self.stopping.is_set():
            trace_id = new_trace_id()
            spans = agent_trace_spans(t0, SPANS_PER_TRACE, child_name="tool")
            body = orjson.dumps(native_batch(trace_id, spans))
            response = self.cluster.ingest_api.post("/api/v1/traces", body, "application/json")
            self.statuses.append(response.status_code)
            if response.status_code == 200:
                self.acknowledged.append(trace_id)
            time.sleep(0.01)

    def __enter__(self) -> Load:
        self.thread = threading.Thread(target=self.run, name="load")
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(30)

    def wait_for(self, count: int) -> None:
        wait_until(lambda: len(self.acknowledged) >= count, 60, lambda: str(self.statuses[-5:]))


def stored(topology: Cluster, trace_ids: list[str]) -> dict[str, int]:
    """Spans stored per trace, for these traces."""
    rows = topology.query(
        "SELECT trace_id, count(*) FROM spans WHERE project_id = $1 AND trace_id = ANY($2)"
        " GROUP BY trace_id",
        uuid.UUID(topology.project_id),
        [uuid.UUID(t) for t in trace_ids],
    )
    return {row[0].hex: int(row[1]) for row in rows}


def assert_all_stored_once(topology: Cluster, acknowledged: list[str]) -> None:
    def complete() -> bool:
        found = stored(topology, acknowledged)
        return len(found) == len(acknowledged) and set(found.values()) == {SPANS_PER_TRACE}

    wait_until(
        complete,
        180,
        lambda: f"{len(stored(topology, acknowledged))} of {len(acknowledged)} traces stored",
    )
    traces = topology.query(
        "SELECT count(*), sum(span_count) FROM traces WHERE project_id = $1 AND trace_id = ANY($2)",
        uuid.UUID(topology.project_id),
        [uuid.UUID(t) for t in acknowledged],
    )[0]
    assert (traces[0], traces[1]) == (len(acknowledged), len(acknowledged) * SPANS_PER_TRACE)


def test_postgres_down_for_20_s_ingest_keeps_accepting_and_nothing_is_lost(
    topology: Cluster,
) -> None:
    services = topology.services
    with Load(topology) as load:
        load.wait_for(20)
        services.stop_service("postgres")
        try:
            during_start = len(load.statuses)
            time.sleep(20)  # the outage itself, not a timing assertion
            during = load.statuses[during_start:]
            # Ingest stays in its load balancer: it needs only Kafka to accept data.
            ready = topology.ingest_api.http.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["database"].startswith("unavailable")
        finally:
            services.start_service("postgres")
        acknowledged_so_far = len(load.acknowledged)
        load.wait_for(acknowledged_so_far + 20)  # and on after it
    assert len(during) > 20, "the client sent too little during the outage to tell"
    assert set(during) == {200}, f"ingest refused during the outage: {sorted(set(during))}"
    assert_all_stored_once(topology, load.acknowledged)


async def test_redis_down_ingest_and_storage_go_on_and_live_updates_resume(
    topology: Cluster,
) -> None:
    services = topology.services
    url = topology.read_api.base_url.replace("http", "ws") + "/graphql"
    query = "subscription { traceUpdates { traceId } }"
    services.stop_service("redis")
    try:
        with Load(topology) as load:
            load.wait_for(20)
        assert set(load.statuses) == {200}, sorted(set(load.statuses))
        await asyncio.to_thread(assert_all_stored_once, topology, load.acknowledged)
    finally:
        services.start_service("redis")
    # Live fan-out is back: a subscriber hears of a trace stored from now on.
    async with subscribed(url, topology.read_api.api_key, query) as live:

        def send() -> str:
            trace_id = new_trace_id()
            body = orjson.dumps(native_batch(trace_id, agent_trace_spans(time.time_ns(), 2)))
            response = topology.ingest_api.post("/api/v1/traces", body, "application/json")
            assert response.status_code == 200
            return trace_id

        heard: set[str] = set()

        def traces_heard(results: list[Any]) -> bool:
            heard.update(str(r["traceUpdates"]["traceId"]) for r in results)
            return bool(heard & sent)

        sent: set[str] = set()
        deadline = time.monotonic() + 90
        while not heard & sent and time.monotonic() < deadline:
            sent.add(send())  # until the api's subscription to Redis is back
            with contextlib.suppress(TimeoutError):
                await live.until(traces_heard, timeout_s=3)
        assert heard & sent, "no live update after Redis came back"


def test_kafka_restarted_under_load_clients_retry_and_every_acknowledged_span_is_stored(
    topology: Cluster,
) -> None:
    """Our SDK and the stock OpenTelemetry exporter both send while the broker is down for
    15 s: ingest answers 503 + Retry-After, the clients retry, and PostgreSQL ends up with
    exactly the spans they were told were accepted (here: all of them)."""
    import agenttrace_sdk as at
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult

    acked: set[str] = set()

    class CountingExporter(OTLPSpanExporter):
        """The stock exporter, noting which spans ingest acknowledged."""

        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            result = super().export(spans)
            if result is SpanExportResult.SUCCESS:
                acked.update(format(s.context.span_id, "016x") for s in spans if s.context)
            return result

    exporter = CountingExporter(
        endpoint=f"{topology.ingest_api.base_url}/v1/traces",
        headers={"Authorization": f"Bearer {topology.ingest_api.api_key}"},
        timeout=120,  # its retry deadline: long enough to outlast the outage
    )
    provider = TracerProvider(resource=Resource.create({"service.name": "kafka-outage"}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200))
    tracer = provider.get_tracer("outage")
    at.init(
        api_key=topology.ingest_api.api_key,
        endpoint=topology.ingest_api.base_url,
        schedule_delay_s=0.2,
    )
    stopping = threading.Event()
    sdk_spans = 0

    def produce() -> None:
        nonlocal sdk_spans
        while not stopping.is_set():
            with tracer.start_as_current_span("otel-outage-span"):
                pass
            with at.span("sdk-outage-span", kind="TOOL"):
                sdk_spans += 1
            time.sleep(0.02)

    producer = threading.Thread(target=produce, name="producer")
    producer.start()
    try:
        time.sleep(2)
        topology.services.stop_service("kafka")
        time.sleep(15)  # the outage itself, not a timing assertion
        topology.services.start_service("kafka")
        time.sleep(2)
    finally:
        stopping.set()
        producer.join(30)
    assert provider.force_flush(180_000)
    provider.shutdown()
    assert at.flush(180)
    stats = at.stats()
    at.shutdown(10)
    assert stats.dropped == 0, stats
    assert stats.retries > 0, "the SDK never had to retry: the outage was not felt"
    assert stats.exported == sdk_spans

    project = uuid.UUID(topology.project_id)

    def count(name: str) -> int:
        rows = topology.query(
            "SELECT count(*) FROM spans WHERE project_id = $1 AND name = $2", project, name
        )
        return int(rows[0][0])

    wait_until(
        lambda: count("sdk-outage-span") == sdk_spans and count("otel-outage-span") == len(acked),
        180,
        lambda: (
            f"sdk {count('sdk-outage-span')}/{sdk_spans}, otel {count('otel-outage-span')}/{len(acked)}"
        ),
    )
    assert len(acked) > 100
