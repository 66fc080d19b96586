"""What ingest counts: requests and spans by outcome, payload sizes, bus publish time."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from prometheus_client import Counter, Histogram

from agenttrace.errors import UserError
from messaging.bus import BusUnavailable

REQUESTS = Counter(
    "agenttrace_ingest_requests_total",
    "Ingest requests by route and answer status",
    ["route", "status"],
)
SPANS = Counter(
    "agenttrace_ingest_spans_total",
    "Spans in ingest requests: accepted (queued), rejected (invalid), refused (request refused)",
    ["outcome"],
)
PAYLOAD_BYTES = Histogram(
    "agenttrace_ingest_payload_bytes",
    "Request body size as received (before gzip inflation)",
    ["route"],
    buckets=(1e3, 1e4, 1e5, 5e5, 1e6, 5e6, 1e7, 5e7),
)
PUBLISH_SECONDS = Histogram(
    "agenttrace_bus_publish_seconds",
    "Time until the bus acknowledged a request's spans (acks=all on Kafka)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)


@contextlib.contextmanager
def counted_request(route: str) -> Iterator[None]:
    """Counts the request under the status its answer gets: 200, a refusal's 4xx, 503."""
    status = "200"
    try:
        yield
    except UserError as exc:
        status = str(exc.status_code)
        raise
    except BusUnavailable:
        status = "503"
        raise
    except Exception:
        status = "500"
        raise
    finally:
        REQUESTS.labels(route, status).inc()


@contextlib.contextmanager
def timed_publish() -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        PUBLISH_SECONDS.observe(time.perf_counter() - started)
