"""Rate limits per project: ``projects.rate_limits``.

Revision ID: 0005
Revises: 0004

A JSON object of the limits set for the project, any of ``ingest_requests_per_s``,
``ingest_spans_per_s`` and ``graphql_cost_per_minute`` (0: unlimited); a missing name,
or NULL for the whole column, means the server's default (AGENTTRACE_RATE_LIMIT_*).
Ingest and the API read it through a cache of a few seconds (access/project_limits.py).
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE projects ADD COLUMN rate_limits JSONB")


def downgrade() -> None:
    op.execute("ALTER TABLE projects DROP COLUMN rate_limits")
