"""Session search without scanning: list indexes ending in (updated_at, id) for keyset paging, and an FTS5
trigram index over titles (substring, case-insensitive: the same matches as the old LIKE '%term%').

Revision ID: 0003_search
Revises: 0002
"""

from alembic import op

revision = "0003_search"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD = {
    "ix_ai_sessions_account_updated": ["account_id", "updated_at"],
    "ix_ai_sessions_list": ["account_id", "status", "updated_at"],
    "ix_ai_sessions_ticket": ["account_id", "psa_ticket_id"],
}
NEW = {
    "ix_ai_sessions_page": ["account_id", "updated_at", "id"],
    "ix_ai_sessions_status_page": ["account_id", "status", "updated_at", "id"],
    "ix_ai_sessions_owner_page": ["account_id", "owner_id", "updated_at", "id"],
    "ix_ai_sessions_ticket_page": ["account_id", "psa_ticket_id", "updated_at", "id"],
}
FTS = [
    "CREATE VIRTUAL TABLE ai_sessions_fts USING fts5(title, session_id UNINDEXED, tokenize='trigram')",
    "INSERT INTO ai_sessions_fts(title, session_id) SELECT title, id FROM ai_sessions",
    """CREATE TRIGGER ai_sessions_fts_insert AFTER INSERT ON ai_sessions BEGIN
        INSERT INTO ai_sessions_fts(title, session_id) VALUES (new.title, new.id);
    END""",
    """CREATE TRIGGER ai_sessions_fts_update AFTER UPDATE OF title ON ai_sessions BEGIN
        UPDATE ai_sessions_fts SET title = new.title WHERE session_id = old.id;
    END""",
    """CREATE TRIGGER ai_sessions_fts_delete AFTER DELETE ON ai_sessions BEGIN
        DELETE FROM ai_sessions_fts WHERE session_id = old.id;
    END""",
]


def upgrade() -> None:
    for name, cols in NEW.items():
        op.create_index(name, "ai_sessions", cols)
    for name in OLD:
        op.drop_index(name, table_name="ai_sessions")
    if op.get_bind().dialect.name == "sqlite":
        for sql in FTS:
            op.execute(sql)
        op.execute("ANALYZE")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS ai_sessions_fts_{name}")
        op.execute("DROP TABLE IF EXISTS ai_sessions_fts")
    for name, cols in OLD.items():
        op.create_index(name, "ai_sessions", cols)
    for name in NEW:
        op.drop_index(name, table_name="ai_sessions")
