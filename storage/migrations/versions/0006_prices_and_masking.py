"""Model prices and masking rules per project; where each span's cost came from.

Revision ID: 0006
Revises: 0005

``project_model_prices``: a project's own price entries (GraphQL ``setModelPrice``),
looked up before the bundled table (pricing/model_prices.json). One row per model and
effective date; USD per 1,000,000 tokens.

``spans.cost_source``: ``CLIENT`` (the cost the client sent, never replaced),
``PROJECT_PRICE`` or ``BUNDLED_PRICE`` (the storage worker priced the span's tokens with
that table), ``UNKNOWN_MODEL`` (a model call with tokens whose model no table prices:
the dashboard says "price unknown"); NULL for spans that are not model calls, or model
calls without tokens. ``spans.tokens_estimated``: true when the worker counted the tokens
of a model call that reported none (pricing/token_estimates.py). Nullable columns without
a default: adding them rewrites nothing.

``projects.masking_rules``: the project's masking rules (masking/rules.py), applied by the
storage worker before a span is stored; NULL: none. ``projects.retention_days``: traces
older than this many days are deleted (workers/retention.py); NULL: the server's default
(AGENTTRACE_RETENTION_DAYS), 0: kept for ever.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE project_model_prices (
            project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
            model text NOT NULL,
            effective_from date NOT NULL,
            pattern text,
            provider text,
            input double precision NOT NULL,
            output double precision NOT NULL,
            cached_input double precision,
            cache_write double precision,
            reasoning double precision,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (project_id, model, effective_from)
        )
        """
    )
    op.execute("ALTER TABLE spans ADD COLUMN cost_source text, ADD COLUMN tokens_estimated boolean")
    op.execute(
        "ALTER TABLE projects ADD COLUMN masking_rules jsonb,"
        " ADD COLUMN retention_days integer CHECK (retention_days >= 0)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE projects DROP COLUMN masking_rules, DROP COLUMN retention_days")
    op.execute("ALTER TABLE spans DROP COLUMN cost_source, DROP COLUMN tokens_estimated")
    op.execute("DROP TABLE project_model_prices")
