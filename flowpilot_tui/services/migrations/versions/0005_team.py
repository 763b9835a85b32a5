"""Team mode on PostgreSQL: row-level security on every account-owned table, and the app role's grants.

Revision ID: 0005_team
Revises: 0003_search

Two roles (see README "Team on PostgreSQL"):
- the **owner** role (e.g. `flowpilot_owner`) owns the tables and runs migrations (`flowpilot db upgrade`); table
  owners bypass row-level security, so it is also the role for account set-up (`flowpilot init` / `demo`);
- the **app** role (default `flowpilot_app`, or `FLOWPILOT_APP_ROLE` at migration time) is what engineers' FlowPilot
  connects as: DML only, and every row it sees or writes is limited to the account set for the transaction with
  `set_config('flowpilot.account_id', …, true)` (the store does that on every transaction). A transaction without
  an account sees no account-owned rows, except the user rows of its own login (`flowpilot.login`) so the app can
  find out who it is. The application's own account filters stay: this is the second wall.

On SQLite this migration does nothing.
"""

import os

from alembic import op

revision = "0005_team"
down_revision = "0003_search"
branch_labels = None
depends_on = None

ACCOUNT = "NULLIF(current_setting('flowpilot.account_id', true), '')::integer"
LOGIN = "current_setting('flowpilot.login', true)"
ACCOUNT_TABLES = ("psa_connections", "ai_sessions", "audit_events", "script_templates")
SESSION_TABLES = (
    "chat_messages",
    "session_facts",
    "suggested_fixes",
    "preview_cache",
    "drafts",
    "writeback_journal",
    "scripts",
)
POLICY = "flowpilot_account_scope"


def _policies() -> dict[str, tuple[str, str]]:
    """table -> (USING, WITH CHECK)."""
    own = f"account_id = {ACCOUNT}"
    rows = {
        "accounts": (
            f"id = {ACCOUNT} OR id IN (SELECT u.account_id FROM users u WHERE u.login = {LOGIN})",
            f"id = {ACCOUNT}",
        ),
        "users": (f"{own} OR login = {LOGIN}", own),
    }
    rows.update({t: (own, own) for t in ACCOUNT_TABLES})
    in_account = f"session_id IN (SELECT s.id FROM ai_sessions s WHERE s.account_id = {ACCOUNT})"
    rows.update({t: (in_account, in_account) for t in SESSION_TABLES})
    return rows


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (using, check) in _policies().items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        op.execute(f"CREATE POLICY {POLICY} ON {table} FOR ALL USING ({using}) WITH CHECK ({check})")
    # Live updates: every change of a session row (facts, fixes and chat bump it; posts, status, takeovers) tells
    # listening FlowPilots which session of which account changed (services/live.py LISTENs on this channel).
    op.execute(
        """
        CREATE OR REPLACE FUNCTION flowpilot_notify_session() RETURNS trigger AS $fn$
        BEGIN
          PERFORM pg_notify('flowpilot_changes', NEW.account_id::text || ':' || NEW.id);
          RETURN NULL;
        END $fn$ LANGUAGE plpgsql
        """
    )
    op.execute("DROP TRIGGER IF EXISTS flowpilot_session_changed ON ai_sessions")
    op.execute(
        "CREATE TRIGGER flowpilot_session_changed AFTER INSERT OR UPDATE ON ai_sessions "
        "FOR EACH ROW EXECUTE FUNCTION flowpilot_notify_session()"
    )
    app_role = os.environ.get("FLOWPILOT_APP_ROLE", "flowpilot_app")
    op.execute(
        f"""
        DO $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{app_role}') THEN
            GRANT USAGE ON SCHEMA public TO "{app_role}";
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{app_role}";
            REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM "{app_role}";
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{app_role}";
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{app_role}";
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "{app_role}";
          END IF;
        END $$;
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS flowpilot_session_changed ON ai_sessions")
    op.execute("DROP FUNCTION IF EXISTS flowpilot_notify_session()")
    for table in _policies():
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
