"""Analytics: the spans (project_id, start_time) index carries the columns they aggregate.

Revision ID: 0003
Revises: 0002

Project analytics (resolvers/analytics.py) read every span of a time range. From the
table that means the whole rows, inputs and outputs included: over a million spans some
1.5 GB per pass, several passes per query. With these columns included the same passes
are index-only scans of about 120 MB. The narrow index it replaces served only the
leading columns, which this one still does, so writes maintain one index, as before.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# As in storage/tables.py (SPAN_MEASURE_COLUMNS); a migration keeps its own copy.
INCLUDED = (
    "end_time, kind, status, model, name, input_tokens, output_tokens, total_tokens, cost,"
    " trace_id, span_id"
)


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_spans_project_start_covering ON spans (project_id, start_time)"
        f" INCLUDE ({INCLUDED})"
    )
    op.execute("DROP INDEX ix_spans_project_start")
    op.execute("ALTER INDEX ix_spans_project_start_covering RENAME TO ix_spans_project_start")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_spans_project_start_narrow ON spans (project_id, start_time)")
    op.execute("DROP INDEX ix_spans_project_start")
    op.execute("ALTER INDEX ix_spans_project_start_narrow RENAME TO ix_spans_project_start")
