"""Every setting AgentTrace reads, in one typed object.

Settings come from ``AGENTTRACE_*`` environment variables (and the CLI flags that override
them). Each of ``database_url``, ``kafka_bootstrap_servers`` and ``redis_url`` switches one
part of the system from its embedded default to the real service.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# A browser Origin: scheme, host (a name or a bracketed IPv6 address), optional port.
_ORIGIN = re.compile(r"https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")


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
    # Processes of `agenttrace ingest` on its one port (uvicorn workers): one process uses
    # at most one core. Each has its own Kafka producer; /metrics answers for the worker
    # that took the request. See docs/benchmarks.md for what one process takes.
    ingest_workers: int = Field(default=1, gt=0)

    # Rate limits (docs/security.md), counted in Redis when redis_url is set, else in
    # process. Server defaults; a project may set its own (setProjectRateLimits). 0 means
    # unlimited. Per API key on ingest, per caller on GraphQL (by query cost). Defaults
    # far above what bench/ sends with one key (1,700 requests and 17,000 spans/s into one
    # ingest; 6.6M of query cost a minute) and twice the seed's 10,000 traces/s of 10
    # spans per instance; 50M of cost is 200 queries a minute at the largest cost allowed.
    rate_limit_ingest_requests_per_s: int = Field(default=20_000, ge=0)
    rate_limit_ingest_spans_per_s: int = Field(default=200_000, ge=0)
    rate_limit_graphql_cost_per_minute: int = Field(default=50_000_000, ge=0)

    # Kafka.
    kafka_partitions: int = Field(default=8, gt=0)
    kafka_replication_factor: int = Field(default=1, gt=0)
    # zstd: smaller than lz4 at half the producer's CPU (aiokafka compresses lz4 at level 9);
    # see docs/benchmarks.md, "Ingest: spans/s into Kafka".
    kafka_compression: Literal["none", "gzip", "lz4", "zstd", "snappy"] = "zstd"
    # 0: a request's spans leave at once (the producer still batches while a send is in
    # flight). 5 ms cut one client's ingest throughput 4-6x and added it to live latency
    # twice (ingest, then the worker's trace-events); see docs/benchmarks.md.
    kafka_linger_ms: int = Field(default=0, ge=0)
    kafka_consumer_group: str = "agenttrace-storage"

    # Storage worker.
    worker_batch_max_messages: int = Field(default=500, gt=0)
    worker_batch_max_wait_ms: int = Field(default=50, ge=0)

    # Analytics worker (`agenttrace analytics-worker`, and inside `serve`): every flush
    # interval it marks the minutes its trace-events touched (analytics read them raw
    # until they are recomputed) and recomputes those that have settled; see
    # docs/operations.md, "Analytics rollups".
    analytics_consumer_group: str = "agenttrace-analytics"
    analytics_flush_interval_s: float = Field(default=2.0, gt=0)
    analytics_batch_max_messages: int = Field(default=2000, gt=0)

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

    # People and tokens (docs/security.md). Access tokens are JWTs: HS256 with jwt_secret
    # (when unset, a secret the server generates once and keeps in the database, shared
    # by every replica), or RS256 with a PEM key pair (the api only needs the public key
    # to verify; login needs the private one).
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_secret: SecretStr | None = None
    jwt_private_key_file: Path | None = None
    jwt_public_key_file: Path | None = None
    access_token_ttl_s: int = Field(default=900, gt=0)
    refresh_token_ttl_s: int = Field(default=30 * 86_400, gt=0)
    # The first admin, created on the first start when there is no user yet; without
    # these, an "admin@localhost" with a one-time password printed once.
    admin_email: str | None = None
    admin_password: SecretStr | None = None
    # Brute force: failed logins per minute, per account and per client address, before
    # every login there is refused with 429 until the minute has passed.
    login_failures_per_minute: int = Field(default=10, gt=0)
    login_failures_per_minute_per_ip: int = Field(default=50, gt=0)

    # HTTP hardening of the api/serve app (docs/security.md, "Hardening").
    # Browser origins allowed to call the API cross-origin ("https://a.example,https://b"
    # or a JSON list). Empty: same origin only, no CORS headers at all.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Behind HTTPS (TLS here or at the proxy): adds Strict-Transport-Security. Never on
    # plain HTTP, where it would lock browsers out of a server that has no TLS.
    behind_https: bool = False
    # GraphQL and REST request bodies (ingest has max_body_bytes).
    max_api_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Off: __schema and __type queries are refused (GraphiQL then has no docs).
    graphql_introspection: bool = True

    # `agenttrace worker` has no HTTP server: it serves /metrics on this port (0: none).
    # The api, ingest and serve processes answer /metrics on their own port.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)

    # Export (docs/operations.md, "Export and import"): where the exportProject mutation
    # writes, a directory or fsspec URL (s3://bucket/prefix needs s3fs installed). A
    # GraphQL caller names a relative path under it and can write nowhere else. None: the
    # mutation is off (`agenttrace export` on the command line needs no setting).
    export_url: str | None = None

    # Retention (docs/data.md): days a project keeps a trace unless it sets its own
    # (setProjectRetention); 0 keeps traces for ever. Storage workers run the job every
    # retention_interval_s, one process at a time.
    retention_days: int = Field(default=0, ge=0)
    retention_interval_s: float = Field(default=3600.0, gt=0)

    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if not isinstance(value, list):
            return value
        origins = []
        for item in value:
            origin = str(item).strip().rstrip("/")
            if not origin:
                continue
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"CORS origin {origin!r} must be scheme://host[:port], like"
                    " https://dashboard.example.com ('*' is not accepted: name the origins)"
                )
            origins.append(origin)
        return origins

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def embedded_mode(self) -> bool:
        """True when no external queue is configured (the single-machine ``serve``)."""
        return self.kafka_bootstrap_servers is None
