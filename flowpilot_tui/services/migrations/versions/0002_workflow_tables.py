"""Workflow tables: preview cache, drafts, scripts, templates, writeback journal, audit events.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_account", ["account_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_session_id"), ["session_id"], unique=False)

    op.create_table(
        "drafts",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("base_state_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["ai_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", "kind"),
    )
    op.create_table(
        "preview_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state_version", sa.Integer(), nullable=False),
        sa.Column("generator_key", sa.String(length=200), nullable=False),
        sa.Column("generator", sa.String(length=20), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["ai_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "kind", "state_version", "generator_key", name="uq_preview_cache_key"),
    )
    with op.batch_alter_table("preview_cache", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_preview_cache_session_id"), ["session_id"], unique=False)

    op.create_table(
        "writeback_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("connection_name", sa.String(length=100), nullable=True),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("marker", sa.String(length=64), nullable=True),
        sa.Column("external_note_id", sa.String(length=64), nullable=True),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.Column("target_status_id", sa.Integer(), nullable=True),
        sa.Column("verified_status_id", sa.Integer(), nullable=True),
        sa.Column("verified_status_name", sa.String(length=100), nullable=True),
        sa.Column("skipped_reason", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["ai_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("writeback_journal", schema=None) as batch_op:
        batch_op.create_index("ix_writeback_journal_session_kind", ["session_id", "kind"], unique=False)

    op.create_table(
        "script_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("fix_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("shell", sa.String(length=20), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["fix_id"],
            ["suggested_fixes.id"],
        ),
        sa.ForeignKeyConstraint(["session_id"], ["ai_sessions.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "name", name="uq_script_templates_account_name"),
    )
    with op.batch_alter_table("script_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_script_templates_account_id"), ["account_id"], unique=False)

    op.create_table(
        "scripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("fix_id", sa.Integer(), nullable=True),
        sa.Column("shell", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("generator", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fix_id"],
            ["suggested_fixes.id"],
        ),
        sa.ForeignKeyConstraint(["session_id"], ["ai_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scripts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scripts_session_id"), ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_table("scripts")
    op.drop_table("script_templates")
    op.drop_table("writeback_journal")
    op.drop_table("preview_cache")
    op.drop_table("drafts")
    op.drop_table("audit_events")
