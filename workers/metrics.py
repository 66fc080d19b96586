"""What the storage worker counts: batch sizes, store time, dead letters (its consumer
lag is the bus consumer's: messaging/kafka_bus.py)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

BATCH_MESSAGES = Histogram(
    "agenttrace_worker_batch_messages",
    "Bus messages per stored batch",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000),
)
BATCH_SPANS = Histogram(
    "agenttrace_worker_batch_spans",
    "Spans per stored batch",
    buckets=(1, 10, 50, 100, 500, 1000, 5000, 10000, 50000),
)
STORE_SECONDS = Histogram(
    "agenttrace_worker_store_seconds",
    "Time to store one batch in PostgreSQL (one transaction), retries included",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
STORED_SPANS = Counter("agenttrace_worker_stored_spans_total", "Spans stored (upserted)")
DEAD_LETTERS = Counter(
    "agenttrace_worker_dead_letters_total", "Messages sent to the dead-letter topic"
)
