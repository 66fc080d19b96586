"""Wires the analytics worker: ``agenttrace analytics-worker`` on its own, and the task
``serve`` runs beside its storage worker."""

from __future__ import annotations

import asyncio
import signal
import sys

from prometheus_client import start_http_server

from agenttrace.runtime import Runtime, open_runtime
from agenttrace.settings import Settings
from messaging import topics
from workers.analytics_worker import AnalyticsWorker


def analytics_worker(runtime: Runtime) -> AnalyticsWorker:
    settings = runtime.settings
    return AnalyticsWorker(
        engine=runtime.engine,
        bus=runtime.bus,
        consumer=runtime.bus.consumer(topics.TRACE_EVENTS, settings.analytics_consumer_group),
        flush_interval_s=settings.analytics_flush_interval_s,
        batch_max_messages=settings.analytics_batch_max_messages,
    )


async def run_analytics_worker(settings: Settings, database_url: str) -> None:
    """``agenttrace analytics-worker``: consumes until SIGINT or SIGTERM, rolling up what
    it holds before it leaves."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    if settings.worker_metrics_port:
        # As `agenttrace worker`: prometheus-client's own server (the database metrics).
        start_http_server(settings.worker_metrics_port, addr=settings.host)
    async with open_runtime(settings, database_url, need_live=False) as runtime:
        print(
            f"agenttrace analytics-worker consuming '{topics.TRACE_EVENTS}' as group "
            f"'{settings.analytics_consumer_group}'",
            file=sys.stderr,
            flush=True,
        )
        await analytics_worker(runtime).run(stopping)
