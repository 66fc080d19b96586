"""What the exporter did, counted: ``agenttrace_sdk.stats()`` returns a snapshot."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Stats:
    """Counts of spans (not batches) since ``init()``; ``dropped`` is their sum of losses."""

    queued: int = 0
    exported: int = 0
    live_exported: int = 0
    spooled: int = 0
    retries: int = 0
    dropped_queue_full: int = 0
    dropped_backlog_full: int = 0
    dropped_spool_full: int = 0
    dropped_rejected: int = 0
    dropped_http_error: int = 0
    dropped_after_shutdown: int = 0
    queue_size: int = 0
    last_error: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return (
            self.dropped_queue_full
            + self.dropped_backlog_full
            + self.dropped_spool_full
            + self.dropped_rejected
            + self.dropped_http_error
            + self.dropped_after_shutdown
        )


_COUNTERS = tuple(
    f.name for f in fields(Stats) if f.name not in ("queue_size", "last_error", "reasons")
)


class Counters:
    """Thread-safe counters behind ``Stats``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = dict.fromkeys(_COUNTERS, 0)
        self._reasons: dict[str, int] = {}
        self.last_error: str | None = None

    def add(self, name: str, count: int = 1, reason: str | None = None) -> None:
        with self._lock:
            self._values[name] += count
            if reason is not None:
                self._reasons[reason] = self._reasons.get(reason, 0) + count
                self.last_error = reason

    def get(self, name: str) -> int:
        return self._values[name]

    def snapshot(self, queue_size: int, queue_dropped: int) -> Stats:
        with self._lock:
            values = {**self._values, "dropped_queue_full": queue_dropped}
            reasons = dict(self._reasons)
            if queue_dropped:
                reasons["queue full"] = queue_dropped
            return Stats(
                queue_size=queue_size, last_error=self.last_error, reasons=reasons, **values
            )
