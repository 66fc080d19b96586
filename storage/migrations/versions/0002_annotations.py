"""Annotations (scores, labels and comments on traces and spans) and hand-set trace tags.

Revision ID: 0002
Revises: 0001

``traces.tags`` is recomputed from the spans whenever a span of the trace arrives, so
tags set by hand live in two columns of their own that the recompute folds in:
``tags = (tags of the spans + manual_tags) - removed_tags``.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE annotations (
            id UUID NOT NULL,
            project_id UUID NOT NULL,
            trace_id UUID NOT NULL,
            span_id BIGINT,
            name TEXT NOT NULL,
            score DOUBLE PRECISION,
            label TEXT,
            comment TEXT,
            source TEXT NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            PRIMARY KEY (id),
            FOREIGN KEY(project_id) REFERENCES projects (id) ON DELETE CASCADE,
            FOREIGN KEY(project_id, trace_id) REFERENCES traces (project_id, trace_id)
                ON DELETE CASCADE,
            FOREIGN KEY(project_id, trace_id, span_id)
                REFERENCES spans (project_id, trace_id, span_id) ON DELETE CASCADE,
            CONSTRAINT ck_annotations_source CHECK (source IN ('HUMAN', 'CODE', 'LLM')),
            CONSTRAINT ck_annotations_has_value
                CHECK (score IS NOT NULL OR label IS NOT NULL OR comment IS NOT NULL)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ix_annotations_target ON annotations (project_id, trace_id, span_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_annotations_project_name ON annotations (project_id, name)
        """
    )
    op.execute(
        """
        ALTER TABLE traces
            ADD COLUMN manual_tags TEXT[] DEFAULT '{}' NOT NULL,
            ADD COLUMN removed_tags TEXT[] DEFAULT '{}' NOT NULL
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE traces DROP COLUMN removed_tags, DROP COLUMN manual_tags")
    op.execute("DROP TABLE annotations")
