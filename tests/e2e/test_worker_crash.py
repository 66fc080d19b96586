"""A storage worker killed with SIGKILL mid-load, twice, loses nothing and stores nothing
twice: every span acknowledged to the client is in PostgreSQL exactly once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import orjson
import pytest

from devservices import DevServices
from tests.e2e.distributed import Cluster, cluster
from tests.payloads import agent_trace_spans, native_batch, new_trace_id
from tests.processes import wait_until

TRACES = 5_000
SPANS_PER_TRACE = 10  # 50,000 spans


@pytest.fixture(scope="module")
def topology(services: DevServices, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(services, tmp_path_factory.mktemp("crash"), "crash") as started:
        yield started


def _batch(t0: int) -> tuple[str, bytes]:
    trace_id = new_trace_id()
    spans = agent_trace_spans(t0, SPANS_PER_TRACE, child_name="tool")
    return trace_id, orjson.dumps(native_batch(trace_id, spans))


def test_worker_killed_twice_mid_load_stores_every_acknowledged_span_once(
    topology: Cluster,
) -> None:
    worker = topology.start_worker("worker-1")
    wait_until(lambda: "worker.partitions_assigned" in worker.output(), 60, worker.output)
    project = uuid.UUID(topology.project_id)

    def stored_spans() -> int:
        return int(
            topology.query("SELECT count(*) FROM spans WHERE project_id = $1", project)[0][0]
        )

    acknowledged: list[str] = []
    t0 = time.time_ns()
    kills = 0
    stored_at_last_kill = 0
    for n in range(TRACES):
        trace_id, body = _batch(t0)
        response = topology.ingest_api.post("/api/v1/traces", body, "application/json")
        assert response.status_code == 200, response.text
        acknowledged.append(trace_id)
        # At a third and at two thirds of the load: once the worker of the moment has
        # stored something (a successor first waits out the group's rebalance), SIGKILL
        # it in the middle of consuming, and start another.
        if kills < 2 and n == TRACES * (kills + 1) // 3:
            wait_until(
                lambda floor=stored_at_last_kill: stored_spans() > floor,
                120,
                lambda current=worker: (
                    f"{current.args} stored nothing:\n{current.output()[-2000:]}"
                ),
            )
            worker.kill()
            kills += 1
            stored_at_last_kill = stored_spans()
            worker = topology.start_worker(f"worker-{kills + 1}")
    assert kills == 2
    restarted = worker

    expected = len(acknowledged) * SPANS_PER_TRACE
    wait_until(
        lambda: stored_spans() == expected,
        180,
        lambda: (
            f"{stored_spans()} of {expected} acknowledged spans stored;\n{restarted.output()[-2000:]}"
        ),
    )
    traces = topology.query(
        "SELECT count(*), sum(span_count), min(span_count), max(span_count) FROM traces WHERE project_id = $1",
        project,
    )[0]
    assert (traces[0], traces[1]) == (TRACES, expected)
    assert (traces[2], traces[3]) == (SPANS_PER_TRACE, SPANS_PER_TRACE)
    stored_ids = {
        r[0].hex
        for r in topology.query("SELECT trace_id FROM traces WHERE project_id = $1", project)
    }
    assert stored_ids == set(acknowledged)
