"""Overload for bench/phoenix.py: client processes that drive a server past its capacity
through the stock OpenTelemetry SDK and exporter (bench/phoenix_exporter.py), and what the
server kept afterwards.

The driver starts the clients and waits for them to finish. Then it gives the server a
window (``drain_s``) to make the acknowledged spans queryable: until its span count has
every acknowledged span, or the window is over. Then
it stops the server (``stop_and_read_span_ids``: Phoenix gracefully, which writes what it
can of its in-memory queue in its shutdown drain, and then its database file is read) and
compares the span ids stored with the ids acknowledged.
"""

from __future__ import annotations

import array
import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson

from bench.phoenix_servers import Server, clean_env
from bench.processes import BenchProcess


@dataclass(slots=True)
class Overload:
    server: str
    clients: int
    offered_rate: float
    duration_s: float
    created: int = 0
    acked: int = 0
    failed: int = 0
    dropped: int = 0
    """By the clients' full queues: never sent."""
    statuses: Counter[str] = field(default_factory=Counter)
    retry_after: int = 0
    finished: int = 0
    """Clients that exited on their own (the others were killed at the deadline)."""
    finish_s: list[float] = field(default_factory=list)
    """Each finished client's shutdown: from the end of its load until every span it
    queued was exported or given up on."""
    queryable: int = 0
    """Growth of the server's span count (its GraphQL) at the end of the window."""
    window_s: float = 0.0
    """From the last client's exit to the end of the window."""
    stored: int = 0
    """New span ids in the server's database once it was stopped."""
    acked_missing: int = 0
    """Acknowledged span ids not stored."""
    dropped_at_stop: int | None = None
    """What the server's own log says it dropped at shutdown (Phoenix logs it)."""


async def _drained_count(server: Server, target: int, window_s: float) -> tuple[int, float]:
    """The span count once it reached ``target``, or after ``window_s``; and how long
    that took. (A server may go quiet for seconds while it decodes what it accepted, so
    the whole window is given.)"""
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while (count := await server.span_count(session)) < target:
            if time.monotonic() - started >= window_s:
                break
            await asyncio.sleep(0.25)
    return count, time.monotonic() - started


async def overload(
    server: Server,
    *,
    clients: int,
    rate: float,
    duration_s: float,
    drain_s: float,
    log_dir: Path,
    finish_timeout_s: float = 90.0,
) -> Overload:
    """``clients`` processes offering ``rate`` spans/s in all for ``duration_s``; then
    ``drain_s`` at most for the server to store them; then the server is stopped."""
    result = Overload(server.name, clients, rate, duration_s)
    async with aiohttp.ClientSession() as session:
        count_before = await server.span_count(session)
    ids_before = await server.stored_span_ids()
    tag = server.name.lower().replace(" ", "-")
    processes = []
    for number in range(clients):
        out = log_dir / f"overload-{tag}-{number}.json"
        argv = [
            sys.executable, "-m", "bench.phoenix_exporter",
            "--endpoint", server.ingest_url,
            *(a for name, value in server.headers.items() for a in ("--header", f"{name}={value}")),
            "--rate", str(rate / clients),
            "--duration", str(duration_s),
            "--seed", str(1000 + number),
            "--out", str(out),
        ]  # fmt: skip
        processes.append(
            (BenchProcess(f"overload-{tag}-{number}", argv, clean_env({}), log_dir), out)
        )

    deadline = time.monotonic() + duration_s + finish_timeout_s
    while time.monotonic() < deadline:
        if all(process.popen.poll() is not None for process, _ in processes):
            break
        await asyncio.sleep(0.1)
    for process, _ in processes:
        finished = process.popen.poll() is not None
        await process.stop(timeout_s=1)  # kills one still running at the deadline
        if finished and process.popen.returncode != 0:
            raise RuntimeError(f"{process.name} failed:\n{process.output()[-3000:]}")

    acked: set[int] = set()
    for process, out in processes:
        if process.popen.returncode != 0 or not out.exists():
            continue
        summary = orjson.loads(out.read_bytes())
        result.finished += 1
        result.finish_s.append(summary["drain_s"])
        result.created += summary["created"]
        result.acked += summary["acked"]
        result.failed += summary["failed"]
        result.statuses.update(summary["statuses"])
        result.retry_after += summary["retry_after"]
        ids = array.array("Q")
        ids.frombytes(out.with_suffix(".ids").read_bytes())
        acked.update(ids)
    result.dropped = result.created - result.acked - result.failed

    count_after, result.window_s = await _drained_count(server, count_before + len(acked), drain_s)
    result.queryable = count_after - count_before
    stored = await server.stop_and_read_span_ids() - ids_before
    result.dropped_at_stop = server.dropped_at_stop()
    result.stored = len(stored)
    result.acked_missing = len(acked - stored)
    return result
