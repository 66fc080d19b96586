"""Every setting AgentTrace reads, in one typed object.

Settings come from ``AGENTTRACE_*`` environment variables (and the CLI flags that override
them). Each of ``database_url``, ``kafka_bootstrap_servers`` and ``redis_url`` switches one
part of the system from its embedded default to the real service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The settings of one AgentTrace process; read once and passed down."""

    model_config = SettingsConfigDict(env_prefix="AGENTTRACE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: Path = Path("~/.agenttrace")

    # Real services; None means the embedded default.
    database_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    redis_url: str | None = None

    # Ingest.
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    publish_timeout_s: float = Field(default=10.0, gt=0)
    retry_after_s: int = Field(default=5, gt=0)

    # Kafka.
    kafka_partitions: int = Field(default=8, gt=0)
    kafka_replication_factor: int = Field(default=1, gt=0)
    kafka_compression: Literal["none", "gzip", "lz4", "zstd", "snappy"] = "lz4"
    # 0: a request's spans leave at once (the producer still batches while a send is in
    # flight). 5 ms cut one client's ingest throughput 4-6x and added it to live latency
    # twice (ingest, then the worker's trace-events); see docs/benchmarks.md.
    kafka_linger_ms: int = Field(default=0, ge=0)
    kafka_consumer_group: str = "agenttrace-storage"

    # Storage worker.
    worker_batch_max_messages: int = Field(default=500, gt=0)
    worker_batch_max_wait_ms: int = Field(default=50, ge=0)

    # Database pool.
    db_pool_size: int = Field(default=10, gt=0)

    # Query API: no client query may run longer than this in PostgreSQL.
    query_statement_timeout_ms: int = Field(default=15_000, gt=0)
    # How long a write keeps a cache key uncacheable. It must outlast any read that
    # started before the write (see cache/store.py), so keep it above the timeout.
    cache_stale_ttl_s: float = Field(default=60.0, gt=0)
    # Live events one subscriber may fall behind before its subscription is ended with
    # SUBSCRIBER_LAGGED (a slow client must never hold memory or slow anyone else).
    live_subscriber_buffer: int = Field(default=1000, gt=0)

    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def embedded_mode(self) -> bool:
        """True when no external queue is configured (the single-machine ``serve``)."""
        return self.kafka_bootstrap_servers is None
