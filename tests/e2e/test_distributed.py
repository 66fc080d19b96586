"""Separate ``ingest``, ``worker`` and ``api`` processes on real Kafka, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from devservices import DevServices
from tests.e2e.distributed import Cluster, cluster
from tests.e2e.helpers import by_name
from tests.payloads import agent_trace_spans, native_batch, new_span_id, new_trace_id
from tests.processes import wait_until


@pytest.fixture(scope="module")
def topology(services: DevServices, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    log_dir = tmp_path_factory.mktemp("distributed")
    with cluster(
        services,
        log_dir,
        "distributed",
        # A short stale period, so a trace written a moment ago can be cached in a test.
        {"AGENTTRACE_PUBLISH_TIMEOUT_S": "3", "AGENTTRACE_CACHE_STALE_TTL_S": "1"},
    ) as started:
        for name in ("worker-1", "worker-2"):
            started.start_worker(name)
        yield started


def _send_traces(topology: Cluster, traces: int, spans_per_trace: int) -> list[str]:
    trace_ids = []
    t0 = time.time_ns()
    for _ in range(traces):
        trace_id = new_trace_id()
        spans = agent_trace_spans(t0, spans_per_trace)
        response = topology.ingest_api.post(
            "/api/v1/traces", orjson.dumps(native_batch(trace_id, spans)), "application/json"
        )
        assert response.status_code == 200, response.text
        trace_ids.append(trace_id)
    return trace_ids


def _stored(topology: Cluster, trace_ids: list[str]) -> tuple[int, int]:
    """(spans stored, sum of the traces' span_count) for the given traces."""
    keys = [uuid.UUID(t) for t in trace_ids]
    spans = topology.query("SELECT count(*) FROM spans WHERE trace_id = ANY($1::uuid[])", keys)[0][
        0
    ]
    counted = topology.query(
        "SELECT COALESCE(sum(span_count), 0) FROM traces WHERE trace_id = ANY($1::uuid[])", keys
    )[0][0]
    return int(spans), int(counted)


def test_stock_exporter_through_kafka_is_stored_with_its_tree(topology: Cluster) -> None:
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(
                endpoint=f"{topology.ingest_api.base_url}/v1/traces",
                headers=topology.ingest_api.auth,
            )
        )
    )
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span(
            "agent", attributes={"openinference.span.kind": "AGENT"}
        ) as root,
        tracer.start_as_current_span(
            "llm",
            attributes={
                "openinference.span.kind": "LLM",
                "llm.model_name": "gpt-4o",
                "llm.token_count.prompt": 3,
                "llm.token_count.completion": 2,
            },
        ),
    ):
        pass
    provider.shutdown()
    trace_id = format(root.get_span_context().trace_id, "032x")
    trace = topology.read_api.wait_for_trace(trace_id, 2)
    spans = by_name(trace)
    assert spans["llm"]["parent_span_id"] == spans["agent"]["span_id"]
    assert (spans["llm"]["kind"], spans["llm"]["model"], spans["llm"]["total_tokens"]) == (
        "LLM",
        "gpt-4o",
        5,
    )
    assert trace["total_tokens"] == 5


def test_two_workers_split_the_partitions_and_store_everything_once(topology: Cluster) -> None:
    def assigned(worker_index: int) -> bool:
        return "worker.partitions_assigned" in topology.workers[worker_index].output()

    wait_until(
        lambda: assigned(0) and assigned(1), 60, lambda: "both workers should own partitions"
    )
    trace_ids = _send_traces(topology, traces=300, spans_per_trace=4)
    wait_until(
        lambda: _stored(topology, trace_ids) == (1200, 1200),
        90,
        lambda: f"stored {_stored(topology, trace_ids)} of 1200",
    )

    def last_assignment(log: str) -> set[int]:
        line = [row for row in log.splitlines() if "worker.partitions_assigned" in row][-1]
        match = re.search(r"partitions=(\[[^\]]*\])", line)
        assert match is not None, line
        return set(orjson.loads(match.group(1)))

    first, second = (last_assignment(w.output()) for w in topology.workers)
    assert first, "worker-1 owns no partition"
    assert second, "worker-2 owns no partition"
    assert not first & second


def test_a_redis_subscriber_receives_the_full_trace_row_live(topology: Cluster) -> None:
    client = redis.Redis.from_url(topology.services.redis_url)
    pubsub = client.pubsub()
    pubsub.subscribe(f"agenttrace:live:project:{topology.project_id}")
    request = f"req-{uuid.uuid4().hex}"
    try:
        trace_id = new_trace_id()
        spans = agent_trace_spans(time.time_ns(), 3)
        batch = native_batch(
            trace_id,
            spans,
            user_id="u-1",
            session_id="s-1",
            environment="prod",
            tags=["b", "a"],
            metadata={"k": "v"},
        )
        response = topology.ingest_api.post(
            "/api/v1/traces", orjson.dumps(batch), "application/json", **{"X-Request-Id": request}
        )
        assert response.status_code == 200, response.text
        deadline = time.monotonic() + 60
        event = None
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1)
            if message and message["type"] == "message":
                candidate = orjson.loads(message["data"])
                if candidate["trace_id"] == trace_id:
                    event = candidate
                    break
        assert event is not None, "no live event for the stored trace"
    finally:
        pubsub.close()
        client.close()

    [row] = topology.query("SELECT * FROM traces WHERE trace_id = $1::uuid", uuid.UUID(trace_id))
    root = spans[0]
    live_spans = event.pop("spans")
    # The ingest request behind it travels with it (ingest -> Kafka header -> worker -> event).
    assert event.pop("correlation_ids") == [request]
    assert event == {
        "type": "trace.updated",
        "project_id": topology.project_id,
        "trace_id": trace_id,
        "name": "root",
        "status": "OK",
        "start_time": row["start_time"].isoformat(),
        "end_time": row["end_time"].isoformat(),
        "duration_ms": row["duration_ms"],
        "root_span_id": root["span_id"],
        "span_count": 3,
        "error_count": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "total_tokens": 0,
        "cost": 0.0,
        "user_id": "u-1",
        "session_id": "s-1",
        "environment": "prod",
        "tags": ["a", "b"],
        "metadata": {"k": "v"},
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }
    # Spans come by start time; these three start within one microsecond of each other.
    assert {s["span_id"]: s for s in live_spans} == {
        span["span_id"]: {
            "span_id": span["span_id"],
            "parent_span_id": span.get("parent_span_id"),
            "name": span["name"],
            "kind": span["kind"],
            "status": "UNSET",
            "start_time": _iso_from_nanos(span["start_time"]),
            "ended": True,
        }
        for span in spans
    }


def _iso_from_nanos(nanos: int) -> str:
    seconds, rest = divmod(nanos, 1_000_000_000)
    return (
        datetime.fromtimestamp(seconds, tz=UTC) + timedelta(microseconds=rest // 1000)
    ).isoformat()


def test_a_poison_message_goes_to_the_dead_letter_topic_without_blocking(topology: Cluster) -> None:
    poison = b'{"v": 1, "project_id": "not-a-uuid", "marker": "%s"}' % new_trace_id().encode()
    bootstrap = topology.services.kafka_bootstrap_servers

    async def produce() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait("agent-traces", poison, key=b"poison")
        finally:
            await producer.stop()

    async def dead_letters() -> list[tuple[bytes, dict[str, bytes]]]:
        consumer = AIOKafkaConsumer(
            "agent-traces.dlq",
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            group_id=None,
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=3000)
            return [(r.value, dict(r.headers)) for records in batches.values() for r in records]
        finally:
            await consumer.stop()

    asyncio.run(produce())
    trace_ids = _send_traces(topology, traces=20, spans_per_trace=2)
    wait_until(
        lambda: _stored(topology, trace_ids) == (40, 40),
        60,
        lambda: "traces after the poison were not stored",
    )
    letters: list[dict[str, bytes]] = []

    def dead_lettered() -> bool:
        letters[:] = [headers for value, headers in asyncio.run(dead_letters()) if value == poison]
        return bool(letters)

    wait_until(dead_lettered, 60, lambda: "the poison message is not in agent-traces.dlq")
    assert b"span batch needs project_id and spans" in letters[0]["x-dlq-reason"]
    bad = topology.query("SELECT count(*) FROM spans WHERE project_id::text = 'not-a-uuid'")
    assert bad[0][0] == 0


def test_kafka_down_gives_503_with_retry_after_and_ingest_recovers(topology: Cluster) -> None:
    trace_id = new_trace_id()
    body = orjson.dumps(
        native_batch(
            trace_id,
            [{"span_id": new_span_id(), "name": "during-outage", "start_time": time.time_ns()}],
        )
    )
    topology.services.stop_kafka()
    try:
        response = topology.ingest_api.post("/api/v1/traces", body, "application/json")
        assert response.status_code == 503, response.text
        assert int(response.headers["retry-after"]) > 0
        assert "retry" in response.json()["error"]
    finally:
        topology.services.start_kafka()
    statuses: list[int] = []

    def accepted() -> bool:
        statuses.append(
            topology.ingest_api.post("/api/v1/traces", body, "application/json").status_code
        )
        return statuses[-1] == 200

    wait_until(accepted, 90, lambda: f"ingest did not recover: {statuses[-5:]}")
    assert set(statuses) <= {200, 503}
    topology.read_api.wait_for_trace(trace_id, 1, timeout_s=90)


def test_a_cached_trace_is_marked_stale_in_redis_when_more_of_it_is_stored(
    topology: Cluster,
) -> None:
    trace_id = new_trace_id()
    root, step = agent_trace_spans(time.time_ns(), 2)
    response = topology.ingest_api.post(
        "/api/v1/traces", orjson.dumps(native_batch(trace_id, [root])), "application/json"
    )
    assert response.status_code == 200, response.text
    topology.read_api.wait_for_trace(trace_id, 1)
    client = redis.Redis.from_url(topology.services.redis_url)
    key = f"trace:{topology.project_id}:{trace_id}"
    try:
        # Once the write's stale mark expires, a read caches the trace.
        wait_until(lambda: client.get(key) is None, 10, lambda: repr(client.get(key)))
        first = topology.read_api.trace(trace_id)
        assert orjson.loads(client.get(key) or b"null") == first
        client.set(key, orjson.dumps(first | {"name": "from the cache"}))
        assert topology.read_api.trace(trace_id) == first | {"name": "from the cache"}
        response = topology.ingest_api.post(
            "/api/v1/traces", orjson.dumps(native_batch(trace_id, [step])), "application/json"
        )
        assert response.status_code == 200, response.text
        wait_until(lambda: client.get(key) == b"\x00stale", 60, lambda: repr(client.get(key)))
    finally:
        client.close()
    second = topology.read_api.trace(trace_id)
    assert second is not None
    assert [s["name"] for s in second["spans"]] == ["root", "step-0"]
