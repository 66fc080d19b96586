"""People: organisations, users with roles in them, refresh tokens, the audit log, and the
server's generated secrets.

Revision ID: 0004
Revises: 0003

Every project now belongs to an organisation; existing projects move to a "Default"
organisation created here (the one the first admin owns). A user's role in an
organisation applies to all of its projects. Refresh tokens and API keys are stored as
SHA-256 hashes of 256-bit random secrets, looked up by hash (nothing to compare in
variable time); passwords as argon2id hashes.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE organizations (
            id UUID NOT NULL,
            name TEXT NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            PRIMARY KEY (id),
            UNIQUE (name)
        )
        """
    )
    op.execute("INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'Default')")
    op.execute("ALTER TABLE projects ADD COLUMN organization_id UUID")
    op.execute(
        "UPDATE projects SET organization_id = (SELECT id FROM organizations WHERE name = 'Default')"
    )
    op.execute("ALTER TABLE projects ALTER COLUMN organization_id SET NOT NULL")
    op.execute(
        "ALTER TABLE projects ADD CONSTRAINT fk_projects_organization"
        " FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE RESTRICT"
    )
    op.execute("CREATE INDEX ix_projects_organization_id ON projects (organization_id)")
    op.execute(
        """
        CREATE TABLE users (
            id UUID NOT NULL,
            email TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            is_admin BOOLEAN DEFAULT false NOT NULL,
            must_change_password BOOLEAN DEFAULT false NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            password_changed_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            disabled_at TIMESTAMP WITH TIME ZONE,
            PRIMARY KEY (id)
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX ux_users_email ON users (lower(email))")
    op.execute(
        """
        CREATE TABLE memberships (
            organization_id UUID NOT NULL,
            user_id UUID NOT NULL,
            role TEXT NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            PRIMARY KEY (organization_id, user_id),
            FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
            FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
            CHECK (role IN ('owner', 'admin', 'member', 'viewer'))
        )
        """
    )
    op.execute("CREATE INDEX ix_memberships_user_id ON memberships (user_id)")
    op.execute(
        """
        CREATE TABLE refresh_tokens (
            id UUID NOT NULL,
            user_id UUID NOT NULL,
            token_hash BYTEA NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
            revoked_at TIMESTAMP WITH TIME ZONE,
            replaced_by UUID,
            PRIMARY KEY (id),
            FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
            UNIQUE (token_hash)
        )
        """
    )
    op.execute("CREATE INDEX ix_refresh_tokens_user_id ON refresh_tokens (user_id)")
    op.execute(
        """
        CREATE TABLE audit_log (
            id BIGSERIAL NOT NULL,
            at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            organization_id UUID,
            project_id UUID,
            target TEXT,
            details JSONB DEFAULT '{}'::jsonb NOT NULL,
            PRIMARY KEY (id)
        )
        """
    )
    op.execute("CREATE INDEX ix_audit_log_organization_at ON audit_log (organization_id, id DESC)")
    op.execute("ALTER TABLE api_keys ADD COLUMN created_by UUID")
    # Secrets the server generates for itself when none is configured (the JWT signing
    # secret), shared by every replica through the database.
    op.execute(
        """
        CREATE TABLE server_secrets (
            name TEXT NOT NULL,
            value BYTEA NOT NULL,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
            PRIMARY KEY (name)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE server_secrets")
    op.execute("ALTER TABLE api_keys DROP COLUMN created_by")
    op.execute("DROP TABLE audit_log")
    op.execute("DROP TABLE refresh_tokens")
    op.execute("DROP TABLE memberships")
    op.execute("DROP TABLE users")
    op.execute("ALTER TABLE projects DROP COLUMN organization_id")
    op.execute("DROP TABLE organizations")
