"""The analytics rollup tables (migration 0007), kept by workers/analytics_worker.py.

Every row is a function of the ``spans`` and ``traces`` rows of one project and minute,
recomputed whole (storage/rollups.py), never adjusted by deltas.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Double,
    Index,
    Numeric,
    SmallInteger,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel


def _span_rollup_table(name: str, time_column: str) -> Table:
    return Table(
        name,
        SQLModel.metadata,
        # A plain table, not a SQLModel class: it has no primary key (a project's minute
        # or hour is replaced whole, and model may be NULL), which an ORM class requires.
        Column("project_id", Uuid, nullable=False),
        Column(time_column, DateTime(timezone=True), nullable=False),
        Column("model", Text),
        Column("kind", Text, nullable=False),
        Column("status", Text, nullable=False),
        Column("span_count", BigInteger, nullable=False),
        Column("error_count", BigInteger, nullable=False),
        Column("finished_count", BigInteger, nullable=False),
        # Sums of every span of the group (not only model calls: kind is in the key, so a
        # reader filters); numeric like PostgreSQL's own sum of bigint: it cannot overflow.
        Column("input_tokens", Numeric, nullable=False),
        Column("output_tokens", Numeric, nullable=False),
        Column("total_tokens", Numeric, nullable=False),
        Column("cost", Double, nullable=False),
        Column("duration_ms_sum", Double, nullable=False),
        # The latency histogram of the finished spans: bucket indexes (ascending), counts.
        Column("latency_buckets", ARRAY(SmallInteger), nullable=False),
        Column("latency_counts", ARRAY(BigInteger), nullable=False),
        Index(f"ix_{name}_project_{time_column}", "project_id", time_column),
    )


span_rollups = _span_rollup_table("span_rollups", "minute")
"""Per project, minute, model, kind and status."""
span_rollups_hourly = _span_rollup_table("span_rollups_hourly", "hour")
"""The same per hour, recomputed from the hour's minute rows."""


class TraceRollup(SQLModel, table=True):
    """The traces of one project starting in one minute."""

    __tablename__ = "trace_rollups"

    project_id: uuid.UUID = Field(primary_key=True)
    minute: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    trace_count: int = Field(sa_column=Column(BigInteger, nullable=False))
    error_trace_count: int = Field(sa_column=Column(BigInteger, nullable=False))
    finished_count: int = Field(sa_column=Column(BigInteger, nullable=False))
    duration_ms_sum: float = Field(sa_column=Column(Double, nullable=False))
    latency_buckets: list[int] = Field(sa_column=Column(ARRAY(SmallInteger), nullable=False))
    latency_counts: list[int] = Field(sa_column=Column(ARRAY(BigInteger), nullable=False))


class TraceRollupHourly(SQLModel, table=True):
    """The traces of one project starting in one hour, from the hour's minute rows."""

    __tablename__ = "trace_rollups_hourly"

    project_id: uuid.UUID = Field(primary_key=True)
    hour: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    trace_count: int = Field(sa_column=Column(BigInteger, nullable=False))
    error_trace_count: int = Field(sa_column=Column(BigInteger, nullable=False))
    finished_count: int = Field(sa_column=Column(BigInteger, nullable=False))
    duration_ms_sum: float = Field(sa_column=Column(Double, nullable=False))
    latency_buckets: list[int] = Field(sa_column=Column(ARRAY(SmallInteger), nullable=False))
    latency_counts: list[int] = Field(sa_column=Column(ARRAY(BigInteger), nullable=False))


class RollupTraceMinutes(SQLModel, table=True):
    """The minutes a trace's spans started in when it was last rolled up."""

    __tablename__ = "rollup_trace_minutes"

    project_id: uuid.UUID = Field(primary_key=True)
    trace_id: uuid.UUID = Field(primary_key=True)
    span_minutes: list[datetime] = Field(
        sa_column=Column(ARRAY(DateTime(timezone=True)), nullable=False)
    )


class RollupDirtyMinute(SQLModel, table=True):
    """A minute whose raw rows changed since it was last rolled up."""

    __tablename__ = "rollup_dirty_minutes"

    project_id: uuid.UUID = Field(primary_key=True)
    minute: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))


class RollupProject(SQLModel, table=True):
    """A project whose rollups are complete: analytics may read them."""

    __tablename__ = "rollup_projects"

    project_id: uuid.UUID = Field(primary_key=True)
    complete_since: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    marked_through: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    """The storage time of the newest change marked (its trace's ``updated_at``)."""
