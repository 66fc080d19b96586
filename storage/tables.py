"""The database tables (SQLModel). Migrations in storage/migrations create them.

Ids: OTel trace ids (16 bytes) are stored as UUID and span ids (8 bytes) as BIGINT, both
bit-exact (see storage/otel_ids.py). Every key starts with ``project_id`` so that one
project can never touch another's rows, even with the same OTel ids. There is no foreign
key between spans and traces or between a span and its parent: a child may arrive first.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel


def _now_column() -> Any:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Organization(SQLModel, table=True):
    """Owns projects; people are members of it with a role (migration 0004)."""

    __tablename__ = "organizations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())


class Project(SQLModel, table=True):
    __tablename__ = "projects"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    organization_id: uuid.UUID = Field(
        foreign_key="organizations.id", index=True, ondelete="RESTRICT"
    )
    created_at: datetime | None = Field(default=None, sa_column=_now_column())
    rate_limits: dict[str, int] | None = Field(default=None, sa_column=Column(JSONB))
    """The project's own rate limits (migration 0005; storage/rate_limits.py); NULL or a
    missing name: the server's default."""
    masking_rules: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSONB))
    """Masking rules the storage worker applies before storing (masking/rules.py)."""
    retention_days: int | None = Field(default=None)
    """Traces older than this are deleted (workers/retention.py); NULL: the server's
    default; 0: for ever."""


class User(SQLModel, table=True):
    """A person. ``password_hash`` is argon2id; ``is_admin`` may create users and
    organisations (data access comes from memberships only)."""

    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(sa_column=Column(Text, nullable=False))  # unique on lower(email)
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    is_admin: bool = False
    must_change_password: bool = False
    created_at: datetime | None = Field(default=None, sa_column=_now_column())
    password_changed_at: datetime | None = Field(default=None, sa_column=_now_column())
    disabled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (CheckConstraint("role IN ('owner', 'admin', 'member', 'viewer')"),)

    organization_id: uuid.UUID = Field(
        foreign_key="organizations.id", primary_key=True, ondelete="CASCADE"
    )
    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    role: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())


class RefreshToken(SQLModel, table=True):
    """A login's long-lived secret, rotated on every use; a revoked one used again revokes
    all of its user's tokens (it was stolen)."""

    __tablename__ = "refresh_tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    token_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False, unique=True))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    replaced_by: uuid.UUID | None = None


class AuditEntry(SQLModel, table=True):
    """Who created or revoked keys, changed roles or deleted data."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    at: datetime | None = Field(default=None, sa_column=_now_column())
    actor: str = Field(sa_column=Column(Text, nullable=False))
    action: str = Field(sa_column=Column(Text, nullable=False))
    organization_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    target: str | None = Field(default=None, sa_column=Column(Text))
    details: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )


class ApiKey(SQLModel, table=True):
    """A project API key. Only a SHA-256 of the secret is kept: keys are 256-bit random,
    so a slow hash adds nothing but latency on every ingest request."""

    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    prefix: str = Field(sa_column=Column(Text, nullable=False))
    key_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False, unique=True))
    scopes: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_by: uuid.UUID | None = None  # the user who made it (none: the CLI or first start)


class Trace(SQLModel, table=True):
    """One trace with aggregates the storage worker recomputes from its spans."""

    __tablename__ = "traces"
    __table_args__ = (
        Index("ix_traces_project_start", "project_id", text("start_time DESC"), "trace_id"),
        Index("ix_traces_project_status", "project_id", "status"),
        Index("ix_traces_project_user", "project_id", "user_id"),
        Index("ix_traces_project_session", "project_id", "session_id"),
        Index("ix_traces_tags", "tags", postgresql_using="gin"),
    )

    project_id: uuid.UUID = Field(primary_key=True)
    trace_id: uuid.UUID = Field(primary_key=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(sa_column=Column(Text, nullable=False))
    start_time: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    end_time: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    duration_ms: float | None = Field(default=None, sa_column=Column(Double))
    root_span_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    span_count: int = Field(default=0)
    error_count: int = Field(default=0)
    input_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    output_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    total_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cost: float = Field(default=0.0, sa_column=Column(Double, nullable=False))
    user_id: str | None = Field(default=None, sa_column=Column(Text))
    session_id: str | None = Field(default=None, sa_column=Column(Text))
    environment: str | None = Field(default=None, sa_column=Column(Text))
    tags: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    """``(tags of the spans + manual_tags) - removed_tags``, kept so by the recompute."""
    manual_tags: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'")),
    )
    """Tags added by hand (tagTrace): they survive the recompute."""
    removed_tags: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'")),
    )
    """Tags removed by hand: hidden even when a span carries them."""
    metadata_: dict[str, Any] = Field(sa_column=Column("metadata", JSONB, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())
    updated_at: datetime | None = Field(default=None, sa_column=_now_column())


SPAN_MEASURE_COLUMNS = [
    "end_time",
    "kind",
    "status",
    "model",
    "name",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "trace_id",
    "span_id",
]


class Span(SQLModel, table=True):
    __tablename__ = "spans"
    __table_args__ = (
        # Carries what analytics aggregate, so a time range is read from the index alone
        # (migration 0003): the rows themselves, with inputs and outputs, are ten times wider.
        Index(
            "ix_spans_project_start",
            "project_id",
            "start_time",
            postgresql_include=SPAN_MEASURE_COLUMNS,
        ),
        Index("ix_spans_project_kind", "project_id", "kind", "start_time"),
        Index(
            "ix_spans_project_model",
            "project_id",
            "model",
            postgresql_where=text("model IS NOT NULL"),
        ),
        Index(
            "ix_spans_project_errors",
            "project_id",
            "start_time",
            postgresql_where=text("status = 'ERROR'"),
        ),
    )

    project_id: uuid.UUID = Field(primary_key=True)
    trace_id: uuid.UUID = Field(primary_key=True)
    span_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    parent_span_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    name: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(sa_column=Column(Text, nullable=False))
    status_message: str | None = Field(default=None, sa_column=Column(Text))
    start_time: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    end_time: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    model: str | None = Field(default=None, sa_column=Column(Text))
    input_tokens: int | None = Field(default=None, sa_column=Column(BigInteger))
    output_tokens: int | None = Field(default=None, sa_column=Column(BigInteger))
    total_tokens: int | None = Field(default=None, sa_column=Column(BigInteger))
    cost: float | None = Field(default=None, sa_column=Column(Double))
    input: Any = Field(default=None, sa_column=Column(JSONB))
    output: Any = Field(default=None, sa_column=Column(JSONB))
    attributes: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    resource: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    events: list[Any] = Field(sa_column=Column(JSONB, nullable=False))
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    user_id: str | None = Field(default=None, sa_column=Column(Text))
    session_id: str | None = Field(default=None, sa_column=Column(Text))
    environment: str | None = Field(default=None, sa_column=Column(Text))
    tags: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    metadata_: dict[str, Any] = Field(sa_column=Column("metadata", JSONB, nullable=False))
    updated_at: datetime | None = Field(default=None, sa_column=_now_column())
    cost_source: str | None = Field(default=None, sa_column=Column(Text))
    """CLIENT, PROJECT_PRICE, BUNDLED_PRICE or UNKNOWN_MODEL (workers/span_costs.py)."""
    tokens_estimated: bool | None = Field(default=None)
    """True when the worker estimated the token counts of a call that reported none."""


class ProjectModelPrice(SQLModel, table=True):
    """A project's own price of a model from a date, USD per 1M tokens (pricing/)."""

    __tablename__ = "project_model_prices"

    project_id: uuid.UUID = Field(foreign_key="projects.id", primary_key=True, ondelete="CASCADE")
    model: str = Field(sa_column_kwargs={"primary_key": True})
    effective_from: date = Field(primary_key=True)
    pattern: str | None = None
    provider: str | None = None
    input: float = Field(sa_column=Column(Double, nullable=False))
    output: float = Field(sa_column=Column(Double, nullable=False))
    cached_input: float | None = Field(default=None, sa_column=Column(Double))
    cache_write: float | None = Field(default=None, sa_column=Column(Double))
    reasoning: float | None = Field(default=None, sa_column=Column(Double))
    updated_at: datetime | None = Field(default=None, sa_column=_now_column())


class Annotation(SQLModel, table=True):
    """A score, label or comment on a trace (``span_id`` NULL) or on one of its spans.
    Deleting the trace, the span or the project deletes it."""

    __tablename__ = "annotations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["project_id", "trace_id"],
            ["traces.project_id", "traces.trace_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["project_id", "trace_id", "span_id"],
            ["spans.project_id", "spans.trace_id", "spans.span_id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("source IN ('HUMAN', 'CODE', 'LLM')", name="ck_annotations_source"),
        CheckConstraint(
            "score IS NOT NULL OR label IS NOT NULL OR comment IS NOT NULL",
            name="ck_annotations_has_value",
        ),
        Index("ix_annotations_target", "project_id", "trace_id", "span_id"),
        Index("ix_annotations_project_name", "project_id", "name"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id", ondelete="CASCADE")
    trace_id: uuid.UUID = Field(nullable=False)
    span_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    name: str = Field(sa_column=Column(Text, nullable=False))
    score: float | None = Field(default=None, sa_column=Column(Double))
    label: str | None = Field(default=None, sa_column=Column(Text))
    comment: str | None = Field(default=None, sa_column=Column(Text))
    source: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())
    updated_at: datetime | None = Field(default=None, sa_column=_now_column())


class BusMessage(SQLModel, table=True):
    """The embedded bus's log (used only by ``serve`` without Kafka): a publish is
    acknowledged once its row is committed, so an acknowledged span survives a crash."""

    __tablename__ = "bus_messages"
    __table_args__ = (Index("ix_bus_messages_topic_id", "topic", "id"),)

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    topic: str = Field(sa_column=Column(Text, nullable=False))
    key: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())


class BusOffset(SQLModel, table=True):
    """The embedded bus's committed position per consumer group and topic."""

    __tablename__ = "bus_offsets"

    group_name: str = Field(sa_column=Column(Text, primary_key=True))
    topic: str = Field(sa_column=Column(Text, primary_key=True))
    committed_id: int = Field(sa_column=Column(BigInteger, nullable=False))


class ServerSecret(SQLModel, table=True):
    """A secret the server generated for itself (the JWT signing secret when none is
    configured), shared by every replica."""

    __tablename__ = "server_secrets"

    name: str = Field(sa_column=Column(Text, primary_key=True))
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())
