"""Kafka topic names: the contract between ingest, workers and later consumers."""

SPANS = "agent-traces"
"""Raw span batches from ingest, keyed by project and trace so one trace stays in order."""
TRACE_EVENTS = "trace-events"
"""What the storage worker stored: one event per changed trace."""
ANALYTICS_EVENTS = "analytics-events"
"""Rollups produced by analytics workers."""
DEAD_LETTERS = "agent-traces.dlq"
"""Messages that can never be stored, with the reason in the ``x-dlq-reason`` header."""

ALL = (SPANS, TRACE_EVENTS, ANALYTICS_EVENTS, DEAD_LETTERS)
