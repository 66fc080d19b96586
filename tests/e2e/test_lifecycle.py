"""Starting and stopping, with real processes on real Kafka, PostgreSQL and Redis:

- a process started while PostgreSQL is down waits for it (with backoff) instead of
  crashing, and serves once it is up;
- SIGTERM drains: a worker finishes and commits its batch and exits, the next one stores
  the rest, every acknowledged span once; ingest finishes the requests in flight (every
  answered 200 is stored); the api closes open subscriptions with a close code.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import orjson
import pytest
import websockets

from devservices import DevServices
from tests.e2e.distributed import Cluster, cluster
from tests.payloads import agent_trace_spans, native_batch, new_trace_id
from tests.processes import Process, free_port, wait_until

SPANS = 10


@pytest.fixture(scope="module")
def topology(services: DevServices, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(services, tmp_path_factory.mktemp("lifecycle"), "lifecycle") as started:
        yield started


def batch() -> tuple[str, bytes]:
    trace_id = new_trace_id()
    body = orjson.dumps(native_batch(trace_id, agent_trace_spans(time.time_ns(), SPANS)))
    return trace_id, body


def stored_traces(topology: Cluster, trace_ids: list[str]) -> dict[str, int]:
    rows = topology.query(
        "SELECT trace_id, span_count FROM traces WHERE project_id = $1 AND trace_id = ANY($2)",
        uuid.UUID(topology.project_id),
        [uuid.UUID(t) for t in trace_ids],
    )
    return {row[0].hex: int(row[1]) for row in rows}


def wait_all_stored(topology: Cluster, trace_ids: list[str]) -> None:
    def complete() -> bool:
        found = stored_traces(topology, trace_ids)
        return len(found) == len(trace_ids) and set(found.values()) == {SPANS}

    wait_until(complete, 120, lambda: f"{len(stored_traces(topology, trace_ids))}/{len(trace_ids)}")


def test_an_api_started_while_postgres_is_down_waits_and_then_serves(topology: Cluster) -> None:
    port = free_port()
    topology.services.stop_service("postgres")
    try:
        api = Process(["api", "--port", str(port)], topology.env, topology.log_dir / "late-api.log")
        wait_until(
            lambda: "startup.waiting_for_database" in api.output(),
            60,
            api.output,
            alive=api,
        )
        assert api.popen.poll() is None  # waiting, not crashed
    finally:
        topology.services.start_service("postgres")
    try:
        api.wait_healthy(f"http://127.0.0.1:{port}", timeout_s=60)
        answer = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/projects",
            headers={"Authorization": f"Bearer {topology.read_api.api_key}"},
        )
        assert answer.status_code == 200
    finally:
        api.stop()


def test_sigterm_lets_a_worker_finish_its_batch_and_the_next_stores_the_rest(
    topology: Cluster,
) -> None:
    worker = topology.start_worker("draining-worker")
    wait_until(lambda: "worker.partitions_assigned" in worker.output(), 60, worker.output)
    acknowledged: list[str] = []
    for n in range(600):
        trace_id, body = batch()
        response = topology.ingest_api.post("/api/v1/traces", body, "application/json")
        assert response.status_code == 200
        acknowledged.append(trace_id)
        if n == 300:
            code = worker.stop()  # SIGTERM mid-load
            assert code in (0, -15), worker.output()[-2000:]
            assert "worker.stopped" in worker.output()
    successor = topology.start_worker("successor-worker")
    wait_all_stored(topology, acknowledged)
    successor.stop()


def test_sigterm_lets_ingest_answer_the_requests_in_flight(topology: Cluster) -> None:
    port = free_port()
    ingest = Process(
        ["ingest", "--port", str(port)], topology.env, topology.log_dir / "draining-ingest.log"
    )
    base = f"http://127.0.0.1:{port}"
    ingest.wait_healthy(base)
    worker = topology.start_worker("ingest-drain-worker")
    answered: list[str] = []
    failed: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(50):
                trace_id, body = batch()
                try:
                    response = http.post(
                        "/api/v1/traces",
                        content=body,
                        headers={
                            "Authorization": f"Bearer {topology.ingest_api.api_key}",
                            "Content-Type": "application/json",
                        },
                    )
                except httpx.HTTPError:
                    with lock:
                        failed.append(trace_id)  # refused at the door: the client retries
                    continue
                with lock:
                    (answered if response.status_code == 200 else failed).append(trace_id)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(answered) >= 40, 60, lambda: f"{len(answered)} answered")
    code = ingest.stop()
    for thread in threads:
        thread.join(60)
    assert code in (0, -15), ingest.output()[-2000:]
    assert answered
    wait_all_stored(topology, answered)  # whatever got a 200 is in PostgreSQL
    worker.stop()


async def read_until_closed(socket: websockets.ClientConnection) -> None:
    while True:
        await socket.recv()


async def test_sigterm_on_the_api_closes_open_subscriptions_with_a_close_code(
    topology: Cluster,
) -> None:
    port = free_port()
    api = Process(["api", "--port", str(port)], topology.env, topology.log_dir / "closing-api.log")
    await asyncio.to_thread(api.wait_healthy, f"http://127.0.0.1:{port}")
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]
    ) as socket:
        init = {"Authorization": f"Bearer {topology.read_api.api_key}"}
        await socket.send(orjson.dumps({"type": "connection_init", "payload": init}).decode())
        assert orjson.loads(await socket.recv())["type"] == "connection_ack"
        subscribe = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": "subscription { traceUpdates { name } }"},
        }
        await socket.send(orjson.dumps(subscribe).decode())
        stopping = asyncio.create_task(asyncio.to_thread(api.stop))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(read_until_closed(socket), 30)
        assert closed.value.rcvd is not None, "closed without a close frame"
        assert closed.value.rcvd.code in (1001, 1012), closed.value.rcvd
        assert await stopping in (0, -15)
