"""The batch processor: takes ended spans from the caller's threads and exports them from
one background thread.

Three parts, as in OpenTelemetry's BatchSpanProcessor: the bounded queue (``queue.py``),
this processor with its worker thread, and the transport (``transport.py``). The worker
wakes when a batch's worth of spans waits, when the schedule delay passes, when a running
span crosses the live threshold, or when asked to flush or shut down. Batches it cannot
send yet wait in the backlog (memory, or the spool directory) and are retried with
exponential backoff and jitter. After ``fork()`` the child gets a fresh queue and thread.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import weakref
from typing import Protocol

from agenttrace_sdk.backlog import DiskSpool, MemoryBacklog
from agenttrace_sdk.config import Config
from agenttrace_sdk.encoding import batch_body, span_entry
from agenttrace_sdk.queue import BoundedQueue
from agenttrace_sdk.spans import Span, SpanSink
from agenttrace_sdk.stats import Counters, Stats
from agenttrace_sdk.transport import DROP, RETRY, SENT, Outcome

log = logging.getLogger("agenttrace_sdk")

BASE_BACKOFF_S = 0.5


class Transport(Protocol):
    def send(self, body: bytes, timeout_s: float | None = None) -> Outcome: ...


class BatchProcessor(SpanSink):
    def __init__(self, config: Config, transport: Transport) -> None:
        self.config = config
        self.transport = transport
        self._setup()
        _PROCESSORS.add(self)

    def _setup(self) -> None:
        config = self.config
        self.counters = Counters()
        self.queue: BoundedQueue[Span] = BoundedQueue(config.max_queue_size, config.max_batch_size)
        self.backlog: DiskSpool | MemoryBacklog
        if config.spool_dir:
            self.backlog = DiskSpool(config.spool_dir, config.max_spool_bytes)
        else:
            self.backlog = MemoryBacklog(config.max_queue_size)
        self._open: dict[str, Span] = {}
        self._live_ns = (
            int(config.live_threshold_s * 1e9)
            if config.live_threshold_s is not None and config.live_threshold_s >= 0
            else None
        )
        self._drops_logged = 0
        self._retry_at = 0.0
        self._failures = 0
        self._server_errors = 0
        self._flushed = threading.Condition(threading.Lock())
        self._flush_asked = 0
        self._flush_done = 0
        self._stopping = False
        self._deadline: float | None = None
        self._thread = threading.Thread(target=self._run, name="agenttrace-exporter", daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        # The parent's queue, lock and thread are not ours: start afresh in the child.
        self._setup()

    # SpanSink: called on the caller's thread, so O(1) and never blocking.
    def on_start(self, span: Span) -> None:
        if self._live_ns is not None:
            self._open[span.span_id] = span

    def on_end(self, span: Span) -> None:
        self._open.pop(span.span_id, None)
        if self._stopping:
            self.counters.add("dropped_after_shutdown", reason="span ended after shutdown")
            return
        self.queue.put(span)

    def stats(self) -> Stats:
        return self.counters.snapshot(len(self.queue), self.queue.dropped)

    def flush(self, timeout_s: float) -> bool:
        """True when every span ended before the call was sent or spooled in time."""
        if not self._thread.is_alive():
            return False
        with self._flushed:
            self._flush_asked += 1
            target = self._flush_asked
        with self.queue.condition:
            self.queue.condition.notify()
        with self._flushed:
            return self._flushed.wait_for(lambda: self._flush_done >= target, timeout_s)

    def shutdown(self, timeout_s: float) -> bool:
        """Exports what is left (running spans as they are) within ``timeout_s``, then
        stops the thread. True when nothing was left behind in memory."""
        if self._stopping:
            return not self._thread.is_alive()
        if not self._thread.is_alive():
            return False
        self._deadline = time.monotonic() + timeout_s
        with self.queue.condition:
            self._stopping = True
            self.queue.condition.notify()
        self._thread.join(max(0.0, timeout_s) + 1.0)
        _PROCESSORS.discard(self)
        return not self._thread.is_alive() and self._settled()

    # The worker thread.
    def _run(self) -> None:
        flushes_seen = 0
        stop_seen = False
        while True:
            with self.queue.condition:
                asked = self._flush_asked > flushes_seen or (self._stopping and not stop_seen)
                if not asked and len(self.queue) < self.config.max_batch_size:
                    self.queue.condition.wait(self._sleep_s())
                stopping = self._stopping
            flushes_seen = self._flush_asked
            stop_seen = stopping
            try:
                self._cycle(final=stopping)
            except Exception:  # the exporter must outlive any bug of its own
                log.exception("agenttrace: exporter cycle failed")
            settled = self._settled()
            if settled or (stopping and self._past_deadline()):
                with self._flushed:
                    self._flush_done = flushes_seen if not stopping else self._flush_asked
                    self._flushed.notify_all()
                if stopping:
                    return

    def _sleep_s(self) -> float:
        wait = self.config.schedule_delay_s
        if self._live_ns is not None:
            now = time.time_ns()
            for span in list(self._open.copy().values()):
                if not span.live_sent:
                    wait = min(wait, (span.start_ns + self._live_ns - now) / 1e9)
        if len(self.backlog):
            wait = min(wait, self._retry_at - time.monotonic())
        if self._deadline is not None:
            wait = min(wait, self._deadline - time.monotonic())
        return max(0.01, wait)

    def _settled(self) -> bool:
        """Nothing in memory waits: the queue is empty and the backlog is empty, or on disk."""
        if len(self.queue):
            return False
        return isinstance(self.backlog, DiskSpool) or len(self.backlog) == 0

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _cycle(self, final: bool) -> None:
        entries: list[str] = []
        for span in self._due_live_spans(final):
            entries.append(self._entry(span))
        self.counters.add("live_exported", len(entries))
        dropped = self.queue.dropped - self._drops_logged
        if dropped:
            self._drops_logged += dropped
            self.counters.last_error = "queue full"
            log.warning("agenttrace: queue full, dropped %d spans", dropped)
        while True:
            spans = self.queue.take(self.config.max_batch_size)
            if not spans and not entries:
                break
            self.counters.add("queued", len(spans))
            entries.extend(self._entry(span) for span in spans)
            self._to_backlog(entries)
            entries = []
        self._send_backlog()

    def _entry(self, span: Span) -> str:
        return span_entry(span, self.config.redact, self.config.max_field_bytes)

    def _due_live_spans(self, final: bool) -> list[Span]:
        if self._live_ns is None and not final:
            return []
        now = time.time_ns()
        due: list[Span] = []
        for span in self._open.copy().values():
            if span.end_ns is not None or span.live_sent:
                continue
            if final or (self._live_ns is not None and now - span.start_ns >= self._live_ns):
                span.live_sent = True
                due.append(span)
        return due

    def _to_backlog(self, entries: list[str]) -> None:
        batch: list[str] = []
        size = 0
        for entry in entries:
            if batch and size + len(entry) > self.config.max_batch_bytes:
                self._store(batch)
                batch, size = [], 0
            batch.append(entry)
            size += len(entry)
        if batch:
            self._store(batch)

    def _store(self, batch: list[str]) -> None:
        if self.backlog.put(batch_body(batch), len(batch)):
            if isinstance(self.backlog, DiskSpool):
                self.counters.add("spooled", len(batch))
            return
        if isinstance(self.backlog, DiskSpool):
            self.counters.add("dropped_spool_full", len(batch), reason="spool full")
        else:
            self.counters.add("dropped_backlog_full", len(batch), reason="backlog full")
        log.warning("agenttrace: server unreachable and backlog full, dropped %d spans", len(batch))

    def _send_backlog(self) -> None:
        while time.monotonic() >= self._retry_at:
            batch = self.backlog.oldest()
            if batch is None:
                return
            key, body, spans = batch
            timeout = self.config.export_timeout_s
            if self._deadline is not None:
                timeout = min(timeout, self._deadline - time.monotonic())
                if timeout <= 0:
                    return
            outcome = self.transport.send(body, timeout)
            if outcome.result == RETRY and not self._give_up(outcome):
                self._back_off(outcome)
                return
            self.backlog.remove(key)
            self._settle(outcome, spans)

    def _give_up(self, outcome: Outcome) -> bool:
        # A server that answers 5xx to the same batch again and again may be choking on
        # it: give up after a few tries. Unreachable or busy servers are waited for.
        if outcome.status is None or outcome.status < 500 or outcome.status == 503:
            return False
        self._server_errors += 1
        return self._server_errors >= self.config.max_server_error_attempts

    def _back_off(self, outcome: Outcome) -> None:
        self._failures += 1
        self.counters.add("retries")
        delay = min(self.config.max_backoff_s, BASE_BACKOFF_S * 2 ** (self._failures - 1))
        delay *= random.uniform(0.5, 1.0)
        if outcome.retry_after_s is not None:
            delay = max(delay, min(outcome.retry_after_s, 300.0))
        self._retry_at = time.monotonic() + delay
        self.counters.last_error = outcome.reason
        if self._failures == 1:
            log.warning("agenttrace: export failed (%s); retrying with backoff", outcome.reason)

    def _settle(self, outcome: Outcome, spans: int) -> None:
        if self._failures:
            log.warning("agenttrace: export recovered after %d retries", self._failures)
        self._failures = 0
        self._server_errors = 0
        self._retry_at = 0.0
        if outcome.result == SENT:
            self.counters.add("exported", spans - outcome.rejected)
            if outcome.rejected:
                self.counters.add("dropped_rejected", outcome.rejected, reason=outcome.reason)
                log.warning("agenttrace: %d spans %s", outcome.rejected, outcome.reason)
        elif outcome.result in (DROP, RETRY):
            self.counters.add("dropped_http_error", spans, reason=outcome.reason)
            log.warning("agenttrace: dropped a batch of %d spans: %s", spans, outcome.reason)


_PROCESSORS: weakref.WeakSet[BatchProcessor] = weakref.WeakSet()


def _reinit_in_child() -> None:
    for processor in list(_PROCESSORS):
        processor._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_in_child)
