"""What an operator watches on a running `agenttrace serve`: /metrics scraped during a
load shows ingest, bus, worker, database, cache, subscription and rate-limit figures; and
the worker's log line for a span names the ingest request (its X-Request-Id) it came with."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.helpers import Api, Served, subscribed
from tests.e2e.helpers import served as serve_on
from tests.payloads import agent_trace_spans, native_batch, new_trace_id
from tests.processes import wait_until


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_on(tmp_path_factory.mktemp("observed"), name="observed-serve") as server:
        yield server


def scrape(api: Api) -> dict[str, float]:
    """Every sample of /metrics, by name and labels (``name{a="b"}``)."""
    response = api.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def total(samples: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(
        value
        for key, value in samples.items()
        if key.split("{", 1)[0] == name and all(w in key for w in wanted)
    )


def send(api: Api, spans: int, request_id: str | None = None) -> str:
    trace_id = new_trace_id()
    body = orjson.dumps(native_batch(trace_id, agent_trace_spans(time.time_ns(), spans)))
    headers = {"X-Request-Id": request_id} if request_id else {}
    response = api.post("/api/v1/traces", body, "application/json", **headers)
    assert response.status_code == 200, response.text
    return trace_id


async def test_metrics_scraped_during_a_load_show_every_part_at_work(served: Served) -> None:
    api = served.api
    before = scrape(api)
    url = api.base_url.replace("http", "ws") + "/graphql"
    async with subscribed(url, api.api_key, "subscription { traceUpdates { name } }") as live:
        sent = []
        for _ in range(20):  # a load: 20 requests of 25 spans, while someone watches live
            sent.append(await asyncio.to_thread(send, api, 25))
        await live.until(lambda results: len(results) >= 20)
        during = scrape(api)
        assert total(during, "agenttrace_live_subscribers") >= 1  # the open subscription
    for trace_id in sent:
        await asyncio.to_thread(api.wait_for_trace, trace_id, 25)
    after = scrape(api)
    api.http.get("/api/v1/traces/" + sent[0])  # a cached read: a lookup counted
    cached = scrape(api)

    def grew(name: str, samples: dict[str, float] = after, by: float = 1, **labels: str) -> None:
        assert total(samples, name, **labels) - total(before, name, **labels) >= by, name

    grew("agenttrace_ingest_requests_total", by=20, route="native", status="200")
    grew("agenttrace_ingest_spans_total", by=500, outcome="accepted")
    grew("agenttrace_ingest_payload_bytes_count", by=20, route="native")
    grew("agenttrace_bus_publish_seconds_count", by=20)
    grew("agenttrace_worker_batch_spans_sum", by=500)
    grew("agenttrace_worker_store_seconds_count")
    grew("agenttrace_worker_stored_spans_total", by=500)
    grew("agenttrace_db_query_seconds_count", engine="write")
    grew("agenttrace_db_query_seconds_count", samples=cached, engine="query")
    grew("agenttrace_cache_lookups_total", samples=cached)
    grew("agenttrace_rate_limit_decisions_total", by=40)
    assert total(after, "agenttrace_db_pool_size", engine="write") > 0
    assert "agenttrace_worker_dead_letters_total{}" in after
    # A refused request is counted under its status.
    refused = api.http.post(
        "/api/v1/traces",
        content=b"{}",
        headers={"Authorization": "Bearer at_not-a-key", "Content-Type": "application/json"},
    )
    assert refused.status_code == 401
    assert total(scrape(api), "agenttrace_ingest_requests_total", status="401") >= 1


def test_the_workers_log_line_names_the_ingest_request_it_stored(served: Served) -> None:
    request_id = f"req-{uuid.uuid4().hex}"
    trace_id = send(served.api, 3, request_id)
    served.api.wait_for_trace(trace_id, 3)

    def logged() -> bool:
        return any(
            "worker.batch_stored" in line and request_id in line
            for line in served.process.output().splitlines()
        )

    wait_until(logged, 30, lambda: served.process.output()[-2000:])
    ingest_line = next(
        line
        for line in served.process.output().splitlines()
        if "ingest.accepted" in line and request_id in line
    )
    assert "correlation_id" in ingest_line


def test_metrics_hold_no_project_or_trace_data(served: Served) -> None:
    trace_id = send(served.api, 2)
    served.api.wait_for_trace(trace_id, 2)
    text = httpx.get(f"{served.api.base_url}/metrics").text
    assert trace_id not in text
    assert served.api.api_key[:10] not in text
    assert "project" not in text.lower()  # no label or help names a project
