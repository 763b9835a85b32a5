"""A per-connection cache of board statuses and tickets' boards, shared by every FlowPilot process (issue 15): a
fresh `flowpilot post` no longer reads the ticket and the board's statuses before the note.

Revision ID: 0006_psa_cache
Revises: 0005_team

On PostgreSQL the table gets the same row-level security policy as the other account-owned tables (0005_team), and
the app role its DML grant.
"""

import os

import sqlalchemy as sa
from alembic import op

revision = "0006_psa_cache"
down_revision = "0005_team"
branch_labels = None
depends_on = None

ACCOUNT = "NULLIF(current_setting('flowpilot.account_id', true), '')::integer"
POLICY = "flowpilot_account_scope"


def upgrade() -> None:
    op.create_table(
        "psa_cache",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column(
            "connection_id", sa.Integer(), sa.ForeignKey("psa_connections.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("connection_id", "kind", "key", name="uq_psa_cache_entry"),
    )
    op.create_index("ix_psa_cache_account_id", "psa_cache", ["account_id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    own = f"account_id = {ACCOUNT}"
    op.execute("ALTER TABLE psa_cache ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {POLICY} ON psa_cache FOR ALL USING ({own}) WITH CHECK ({own})")
    app_role = os.environ.get("FLOWPILOT_APP_ROLE", "flowpilot_app")
    op.execute(
        f"""
        DO $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{app_role}') THEN
            GRANT SELECT, INSERT, UPDATE, DELETE ON psa_cache TO "{app_role}";
            GRANT USAGE, SELECT ON SEQUENCE psa_cache_id_seq TO "{app_role}";
          END IF;
        END $$;
        """
    )


def downgrade() -> None:
    op.drop_index("ix_psa_cache_account_id", table_name="psa_cache")
    op.drop_table("psa_cache")
