"""Schema: built from an empty file by migrations, upgrades an older DB in place, and matches the models."""

from __future__ import annotations

import sqlite3

from flowpilot_tui.services.store import Store, current_revision, head_revision, sqlite_path, upgrade_schema


async def test_empty_db_is_migrated_to_head(db_url) -> None:
    store = await Store.open(db_url)
    await store.close()
    path = sqlite_path(db_url)
    assert current_revision(path) == head_revision()
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        mode = conn.execute("pragma journal_mode").fetchone()[0]
    assert {
        "accounts",
        "users",
        "ai_sessions",
        "session_facts",
        "suggested_fixes",
        "chat_messages",
        "preview_cache",
        "drafts",
        "writeback_journal",
        "audit_events",
    } <= tables
    assert mode == "wal"


async def test_older_db_is_upgraded_on_open_and_keeps_data(db_url, clock) -> None:
    upgrade_schema(db_url, "0001")
    path = sqlite_path(db_url)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "insert into accounts (id, name, is_demo, preferences, created_at) "
            "values (1, 'Old', 0, '{}', '2026-01-01 00:00:00')"
        )
        conn.execute(
            "insert into users (id, account_id, login, display_name, role, created_at) "
            "values (1, 1, 'alice', 'Alice', 'engineer', '2026-01-01 00:00:00')"
        )
        conn.execute(
            "insert into ai_sessions (id, account_id, owner_id, title, status, state_version, created_at, updated_at) "
            "values ('11111111-1111-1111-1111-111111111111', 1, 1, 'Legacy session', 'active', 3, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    assert current_revision(path) == "0001"
    store = await Store.open(db_url)
    from flowpilot_tui.services import accounts
    from flowpilot_tui.services.sessions import SessionService

    actor = await accounts.resolve_actor(store, "alice")
    svc = SessionService(store, actor, clock)
    detail = await svc.get("11111111-1111-1111-1111-111111111111")
    assert detail.summary.title == "Legacy session" and detail.summary.state_version == 3
    await svc.save_draft(detail.id, "resolve", "works on the new tables", 3)  # a 0002 table
    await store.close()
    assert current_revision(path) == head_revision()


def test_models_and_migrations_agree(db_url) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from flowpilot_tui.services.models import Base

    upgrade_schema(db_url)
    engine = create_engine(db_url.replace("+aiosqlite", ""))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    # The FTS5 title index (0003_search) and its shadow tables live only in the migration.
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("ai_sessions_fts"))]
    assert diff == []
