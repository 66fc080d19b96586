"""Analytics rollups: spans and traces per project and minute, kept by the analytics worker.

Revision ID: 0007
Revises: 0006

``span_rollups``: one row per project, minute (of the span's start), model, kind and
status: counts, token and cost sums, and a latency histogram of the finished spans as
two parallel arrays (bucket index, count; see storage/rollups.py for the buckets). No
primary key: a (project, minute) is always replaced whole, and model may be NULL.

``trace_rollups``: one row per project and minute of the trace's start: trace counts and
the histogram of end-to-end durations.

``span_rollups_hourly`` and ``trace_rollups_hourly``: the same per hour, recomputed from
the minute rows of an hour whenever one of its minutes is, so that a week is read from
about 170 rows per group rather than 10,000.

``rollup_trace_minutes``: the minutes each trace's spans started in when last rolled up,
so that a span whose start time moves (an update that reports an earlier start) also
refreshes the minute it left.

``rollup_dirty_minutes``: minutes whose raw rows changed since they were last rolled up
(marked at once, recomputed once they have settled); analytics read these from the raw
rows meanwhile.

``rollup_projects``: the projects whose rollups are complete (backfilled from their
spans, then kept by the worker); analytics read rollups for these projects only.
``marked_through``: the storage time of the newest change the worker has marked, so a
stopped worker makes analytics read the newer minutes raw rather than miss them.

Like ``spans`` and ``traces`` there is no foreign key to ``projects``.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE span_rollups (
            project_id uuid NOT NULL,
            minute timestamptz NOT NULL,
            model text,
            kind text NOT NULL,
            status text NOT NULL,
            span_count bigint NOT NULL,
            error_count bigint NOT NULL,
            finished_count bigint NOT NULL,
            input_tokens numeric NOT NULL,
            output_tokens numeric NOT NULL,
            total_tokens numeric NOT NULL,
            cost double precision NOT NULL,
            duration_ms_sum double precision NOT NULL,
            latency_buckets smallint[] NOT NULL,
            latency_counts bigint[] NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_span_rollups_project_minute ON span_rollups (project_id, minute)")
    op.execute(
        """
        CREATE TABLE trace_rollups (
            project_id uuid NOT NULL,
            minute timestamptz NOT NULL,
            trace_count bigint NOT NULL,
            error_trace_count bigint NOT NULL,
            finished_count bigint NOT NULL,
            duration_ms_sum double precision NOT NULL,
            latency_buckets smallint[] NOT NULL,
            latency_counts bigint[] NOT NULL,
            PRIMARY KEY (project_id, minute)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE span_rollups_hourly (
            project_id uuid NOT NULL,
            hour timestamptz NOT NULL,
            model text,
            kind text NOT NULL,
            status text NOT NULL,
            span_count bigint NOT NULL,
            error_count bigint NOT NULL,
            finished_count bigint NOT NULL,
            input_tokens numeric NOT NULL,
            output_tokens numeric NOT NULL,
            total_tokens numeric NOT NULL,
            cost double precision NOT NULL,
            duration_ms_sum double precision NOT NULL,
            latency_buckets smallint[] NOT NULL,
            latency_counts bigint[] NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_span_rollups_hourly_project_hour ON span_rollups_hourly (project_id, hour)"
    )
    op.execute(
        """
        CREATE TABLE trace_rollups_hourly (
            project_id uuid NOT NULL,
            hour timestamptz NOT NULL,
            trace_count bigint NOT NULL,
            error_trace_count bigint NOT NULL,
            finished_count bigint NOT NULL,
            duration_ms_sum double precision NOT NULL,
            latency_buckets smallint[] NOT NULL,
            latency_counts bigint[] NOT NULL,
            PRIMARY KEY (project_id, hour)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE rollup_trace_minutes (
            project_id uuid NOT NULL,
            trace_id uuid NOT NULL,
            span_minutes timestamptz[] NOT NULL,
            PRIMARY KEY (project_id, trace_id)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE rollup_dirty_minutes (
            project_id uuid NOT NULL,
            minute timestamptz NOT NULL,
            PRIMARY KEY (project_id, minute)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE rollup_projects (
            project_id uuid PRIMARY KEY,
            complete_since timestamptz NOT NULL DEFAULT now(),
            marked_through timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    for table in (
        "rollup_projects",
        "rollup_dirty_minutes",
        "rollup_trace_minutes",
        "trace_rollups_hourly",
        "span_rollups_hourly",
        "trace_rollups",
        "span_rollups",
    ):
        op.execute(f"DROP TABLE {table}")
