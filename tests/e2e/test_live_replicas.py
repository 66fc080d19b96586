"""Live subscriptions across processes: two ``agenttrace api`` replicas, one worker, one
ingest, on real Kafka, Redis and PostgreSQL. A subscriber on either replica sees what the
worker stored, through Redis pub/sub."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from devservices import DevServices
from tests.e2e.distributed import Cluster, cluster
from tests.e2e.helpers import subscribed
from tests.payloads import agent_trace_spans, native_batch, new_trace_id
from tests.processes import Process, free_port

Result = dict[str, Any]


@pytest.fixture(scope="module")
def replicas(
    services: DevServices, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Cluster, str, str]]:
    log_dir = tmp_path_factory.mktemp("live-replicas")
    with cluster(services, log_dir, "live-replicas") as started:
        started.start_worker("worker")
        port = free_port()
        second = Process(["api", "--port", str(port)], started.env, log_dir / "api-2.log")
        try:
            second.wait_healthy(f"http://127.0.0.1:{port}")
            first_ws = started.read_api.base_url.replace("http://", "ws://") + "/graphql"
            yield started, first_ws, f"ws://127.0.0.1:{port}/graphql"
        finally:
            second.stop()


async def _post(topology: Cluster, batch: Result) -> float:
    """Sends a native batch through ``agenttrace ingest``; returns when it was sent."""
    sent = time.monotonic()
    response = await asyncio.to_thread(
        topology.ingest_api.post, "/api/v1/traces", orjson.dumps(batch), "application/json"
    )
    assert response.status_code == 200, response.text
    return sent


async def test_subscribers_on_both_replicas_see_a_trace_the_worker_stored(
    replicas: tuple[Cluster, str, str],
) -> None:
    topology, replica_a, replica_b = replicas
    key = topology.ingest_api.api_key
    query = "subscription { traceUpdates { traceId name spanCount } }"
    sent: dict[str, float] = {}

    def seen(results: list[Result]) -> set[str]:
        return {r["traceUpdates"]["traceId"] for r in results}

    async with (
        subscribed(replica_a, key, query) as on_a,
        subscribed(replica_b, key, query) as on_b,
    ):
        # A subscription goes live a moment after it is sent: send traces until one
        # that both replicas' subscribers received.
        async with asyncio.timeout(60):
            while not seen([r for _, r in on_a.results]) & seen([r for _, r in on_b.results]):
                trace_id = new_trace_id()
                sent[trace_id] = await _post(
                    topology, native_batch(trace_id, agent_trace_spans(time.time_ns(), 3))
                )
                await asyncio.sleep(0.5)
        common = seen([r for _, r in on_a.results]) & seen([r for _, r in on_b.results])
        for subscriber in (on_a, on_b):
            for arrived, result in subscriber.results:
                update = result["traceUpdates"]
                if update["traceId"] in common:
                    assert update == {"traceId": update["traceId"], "name": "root", "spanCount": 3}
                    latency = (arrived - sent[update["traceId"]]) * 1000
                    print(f"ingest -> subscriber: {latency:.0f} ms")


async def test_trace_spans_delivers_a_running_traces_spans_as_they_arrive(
    replicas: tuple[Cluster, str, str],
) -> None:
    topology, replica_a, _ = replicas
    trace_id = new_trace_id()
    root, *steps = agent_trace_spans(time.time_ns(), 3)
    await _post(topology, native_batch(trace_id, [root | {"end_time": None}]))
    await asyncio.sleep(0)
    query = "subscription ($t: String!) { traceSpans(traceId: $t) { name endTime } }"

    def spans(results: list[Result]) -> list[Result]:
        return [r["traceSpans"] for r in results]

    async with subscribed(replica_a, topology.ingest_api.api_key, query, {"t": trace_id}) as sub:
        # The stored root comes first (once the worker stored it): the subscription is live.
        await sub.until(lambda results: bool(results))
        assert spans([r for _, r in sub.results])[0] == {"name": "root", "endTime": None}
        for step in steps:
            await _post(topology, native_batch(trace_id, [step]))
            await sub.until(
                lambda results, name=step["name"]: name in {s["name"] for s in spans(results)}
            )
        await _post(topology, native_batch(trace_id, [root]))  # the root ends
        await sub.until(
            lambda results: any(s["name"] == "root" and s["endTime"] for s in spans(results))
        )
    names = [s["name"] for s in spans([r for _, r in sub.results])]
    assert names.index("step-0") < names.index("step-1")
    assert names[-1] == "root"


async def test_a_subscriber_whose_replica_dies_resumes_on_another_and_misses_nothing(
    replicas: tuple[Cluster, str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The resume model (docs/operations.md): an api replica is killed with SIGKILL; its
    subscriber connects to another replica and subscribes again. traceSpans starts with
    every span already stored, so the spans stored while it was away arrive too."""
    topology, _, replica_b = replicas
    port = free_port()
    doomed = Process(
        ["api", "--port", str(port)], topology.env, tmp_path_factory.mktemp("doomed") / "api.log"
    )
    try:
        await _resume_after_a_replica_dies(topology, doomed, port, replica_b)
    finally:
        doomed.stop()  # already dead; closes its log files


async def _resume_after_a_replica_dies(
    topology: Cluster, doomed: Process, port: int, replica_b: str
) -> None:
    await asyncio.to_thread(doomed.wait_healthy, f"http://127.0.0.1:{port}")
    trace_id = new_trace_id()
    spans = agent_trace_spans(time.time_ns(), 6)
    await _post(topology, native_batch(trace_id, spans[:2]))
    query = "subscription ($t: String!) { traceSpans(traceId: $t) { name } }"

    def names(results: list[Result]) -> set[str]:
        return {r["traceSpans"]["name"] for r in results}

    key = topology.ingest_api.api_key
    async with subscribed(f"ws://127.0.0.1:{port}/graphql", key, query, {"t": trace_id}) as sub:
        await sub.until(lambda results: len(names(results)) >= 2)
        await asyncio.to_thread(doomed.kill)  # the replica dies mid-subscription
        await _post(topology, native_batch(trace_id, spans[2:4]))  # while nobody listens
    async with subscribed(replica_b, key, query, {"t": trace_id}) as resumed:
        await _post(topology, native_batch(trace_id, spans[4:]))
        expected = {s["name"] for s in spans}
        await resumed.until(lambda results: names(results) >= expected)
