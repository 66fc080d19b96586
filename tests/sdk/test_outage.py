"""Delivery when the server is away: with the spool, a ~30 s outage loses nothing and
sends nothing twice; without it, a full queue drops and counts, and never blocks or
raises into the application."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import agenttrace_sdk as at

from tests.e2e.helpers import Api
from tests.processes import free_port, wait_until
from tests.sdk.conftest import Serve

OUTAGE_S = 30
SPANS_PER_TRACE = 3


def _produce_trace(i: int) -> str:
    with at.span(f"agent-{i}", kind="AGENT") as root:
        with at.span("llm", kind="LLM") as llm:
            llm.set_model("gpt-4o").set_tokens(input=1, output=1)
        with at.span("tool", kind="TOOL"):
            pass
    return root.trace_id


def _stored_span_counts(api: Api) -> dict[str, int]:
    counts: dict[str, int] = {}
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        page = api.http.get("/api/v1/traces", params=params, headers=api.auth).json()
        counts |= {item["trace_id"]: item["span_count"] for item in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return counts


def test_a_server_outage_loses_nothing_and_duplicates_nothing_with_the_spool(
    serve: Serve, tmp_path: Path
) -> None:
    assert serve.api is not None
    spool = tmp_path / "spool"
    at.init(
        api_key=serve.api.api_key,
        endpoint=serve.base_url,
        spool_dir=str(spool),
        schedule_delay_s=0.1,
        max_backoff_s=2,
        live_threshold_s=-1,  # only complete spans, so every span is exported exactly once
    )
    try:
        sent = [_produce_trace(i) for i in range(20)]
        assert at.flush(30)

        serve.stop()
        down_since = time.monotonic()
        i = len(sent)
        while time.monotonic() - down_since < OUTAGE_S:
            sent.append(_produce_trace(i))
            i += 1
            time.sleep(0.1)
        assert at.flush(10)  # flushed to the spool: durable although the server is away
        assert list(spool.glob("*.batch.gz"))
        during = at.stats()
        assert during.spooled > 0
        assert during.retries > 0

        api = serve.start()
        sent += [_produce_trace(i + n) for n in range(20)]
        assert at.flush(120)
        total = len(sent) * SPANS_PER_TRACE
        wait_until(lambda: at.stats().exported >= total, 120, lambda: f"{at.stats()}")

        def all_stored() -> bool:
            counts = _stored_span_counts(api)
            return all(counts.get(t) == SPANS_PER_TRACE for t in sent)

        wait_until(all_stored, 120, lambda: "not every trace was stored whole")
        stats = at.stats()
        assert stats.exported == total  # sent exactly once each
        assert stats.dropped == 0
        assert not list(spool.glob("*.batch.gz"))
        counts = _stored_span_counts(api)
        assert sum(counts[t] for t in sent) == total
    finally:
        at.shutdown(10)


def test_with_a_tiny_queue_and_no_server_spans_are_dropped_counted_and_never_block() -> None:
    at.init(
        api_key="at_unused-xxxxxxxxxxxxxxxxxxxx",
        endpoint=f"http://127.0.0.1:{free_port()}",  # nothing listens: the server is down
        max_queue_size=8,
        max_batch_size=4,
        schedule_delay_s=0.05,
    )
    try:
        started = time.monotonic()
        for i in range(20_000):
            with at.span("tight", kind="TOOL") as s:
                s.set_attribute("i", i)
        elapsed = time.monotonic() - started
        assert elapsed < 60  # generous sanity: the loop never waited on the network
        stats = at.stats()
        assert stats.dropped_queue_full > 0
        assert stats.dropped > 0
        assert stats.exported == 0
        assert stats.reasons["queue full"] == stats.dropped_queue_full
    finally:
        begun = time.monotonic()
        at.shutdown(1)
        assert time.monotonic() - begun < 10
    assert at.stats().dropped >= at.stats().dropped_queue_full


def test_a_spool_left_by_an_earlier_run_is_sent_by_the_next(serve: Serve, tmp_path: Path) -> None:
    assert serve.api is not None
    spool = tmp_path / "spool"
    at.init(
        api_key=serve.api.api_key,
        endpoint=f"http://127.0.0.1:{free_port()}",  # the server is away for this run
        spool_dir=str(spool),
        schedule_delay_s=0.05,
    )
    trace_id = _produce_trace(0)
    assert at.flush(10)
    at.shutdown(2)
    assert list(spool.glob("*.batch.gz"))

    at.init(api_key=serve.api.api_key, endpoint=serve.base_url, spool_dir=str(spool))
    try:
        trace = serve.api.wait_for_trace(trace_id, SPANS_PER_TRACE)
        assert trace["span_count"] == SPANS_PER_TRACE
        wait_until(lambda: not list(spool.glob("*.batch.gz")), 30, lambda: "spool not emptied")
    finally:
        at.shutdown(5)
