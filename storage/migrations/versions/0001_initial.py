"""Initial schema: projects, API keys, traces, spans and the embedded bus's log.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE bus_messages (
            id BIGSERIAL NOT NULL,
            topic TEXT NOT NULL,
            key BYTEA,
            value BYTEA NOT NULL,
            headers JSONB NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            PRIMARY KEY (id)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ix_bus_messages_topic_id ON bus_messages (topic, id)
        """
    )
    op.execute(
        """
        CREATE TABLE bus_offsets (
            group_name TEXT NOT NULL,
            topic TEXT NOT NULL,
            committed_id BIGINT NOT NULL,
            PRIMARY KEY (group_name, topic)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE projects (
            id UUID NOT NULL,
            name TEXT NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            PRIMARY KEY (id),
            UNIQUE (name)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE spans (
            project_id UUID NOT NULL,
            trace_id UUID NOT NULL,
            span_id BIGINT NOT NULL,
            parent_span_id BIGINT,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            status_message TEXT,
            start_time TIMESTAMP WITH TIME ZONE NOT NULL,
            end_time TIMESTAMP WITH TIME ZONE,
            model TEXT,
            input_tokens BIGINT,
            output_tokens BIGINT,
            total_tokens BIGINT,
            cost DOUBLE PRECISION,
            input JSONB,
            output JSONB,
            attributes JSONB NOT NULL,
            resource JSONB NOT NULL,
            events JSONB NOT NULL,
            error JSONB,
            user_id TEXT,
            session_id TEXT,
            environment TEXT,
            tags TEXT[] NOT NULL,
            metadata JSONB NOT NULL,
            updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            PRIMARY KEY (project_id, trace_id, span_id)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ix_spans_project_errors ON spans (project_id, start_time) WHERE status = 'ERROR'
        """
    )
    op.execute(
        """
        CREATE INDEX ix_spans_project_kind ON spans (project_id, kind, start_time)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_spans_project_model ON spans (project_id, model) WHERE model IS NOT NULL
        """
    )
    op.execute(
        """
        CREATE INDEX ix_spans_project_start ON spans (project_id, start_time)
        """
    )
    op.execute(
        """
        CREATE TABLE traces (
            project_id UUID NOT NULL,
            trace_id UUID NOT NULL,
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            start_time TIMESTAMP WITH TIME ZONE NOT NULL,
            end_time TIMESTAMP WITH TIME ZONE,
            duration_ms DOUBLE PRECISION,
            root_span_id BIGINT,
            span_count INTEGER NOT NULL,
            error_count INTEGER NOT NULL,
            input_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL,
            total_tokens BIGINT NOT NULL,
            cost DOUBLE PRECISION NOT NULL,
            user_id TEXT,
            session_id TEXT,
            environment TEXT,
            tags TEXT[] NOT NULL,
            metadata JSONB NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            PRIMARY KEY (project_id, trace_id)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ix_traces_project_session ON traces (project_id, session_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_traces_project_start ON traces (project_id, start_time DESC, trace_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_traces_project_status ON traces (project_id, status)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_traces_project_user ON traces (project_id, user_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_traces_tags ON traces USING gin (tags)
        """
    )
    op.execute(
        """
        CREATE TABLE api_keys (
            id UUID NOT NULL,
            project_id UUID NOT NULL,
            prefix TEXT NOT NULL,
            key_hash BYTEA NOT NULL,
            scopes TEXT[] NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            expires_at TIMESTAMP WITH TIME ZONE,
            revoked_at TIMESTAMP WITH TIME ZONE,
            last_used_at TIMESTAMP WITH TIME ZONE,
            PRIMARY KEY (id),
            FOREIGN KEY(project_id) REFERENCES projects (id) ON DELETE CASCADE,
            UNIQUE (key_hash)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX ix_api_keys_project_id ON api_keys (project_id)
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE api_keys")
    op.execute("DROP TABLE traces")
    op.execute("DROP TABLE spans")
    op.execute("DROP TABLE projects")
    op.execute("DROP TABLE bus_offsets")
    op.execute("DROP TABLE bus_messages")
