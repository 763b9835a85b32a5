"""The database handle: one async engine per app, SQLite in WAL mode, schema upgraded on open.

Write transactions start with `BEGIN IMMEDIATE` so two processes on one file queue on the busy timeout instead of
failing half-way through a read-then-write transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from flowpilot_tui.services.errors import ConfigError

BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def head_revision() -> str:
    """Newest migration id; revision files are named `NNNN_*.py` with revision == NNNN."""
    names = [p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    return max(names)


def sqlite_path(db_url: str) -> Path | None:
    url = make_url(db_url)
    if not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


def current_revision(path: Path) -> str | None:
    if not path.exists():
        return None
    with sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return row[0] if row else None


def upgrade_schema(db_url: str, revision: str = "head") -> None:
    """Run Alembic migrations synchronously (also used by `flowpilot db upgrade` and tests)."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    sync_url = make_url(db_url).set(drivername="sqlite")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(sync_url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def _enable_wal(path: Path) -> None:
    """WAL is persistent in the file: readers never block the writer, so two app processes can share it."""
    with sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """Owns the engine; hands out read and write sessions."""

    def __init__(self, engine: AsyncEngine, db_url: str) -> None:
        self.engine = engine
        self.db_url = db_url
        self._read = async_sessionmaker(engine, expire_on_commit=False)
        self._write = async_sessionmaker(engine.execution_options(sqlite_immediate=True), expire_on_commit=False)

    @classmethod
    async def open(cls, db_url: str, *, migrate: bool = True) -> Store:
        path = sqlite_path(db_url)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"db_url: cannot create {path.parent}: {exc.strerror}") from None
            if migrate and current_revision(path) != head_revision():
                try:
                    upgrade_schema(db_url)
                except Exception as exc:  # corrupted file, not a database, read-only dir...
                    raise ConfigError(
                        f"db_url: cannot open or upgrade {path}: {exc.__class__.__name__}: {exc}"
                    ) from None
            _enable_wal(path)
        engine = create_async_engine(db_url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _install_sqlite_hooks(engine)
        return cls(engine, db_url)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as db:
            yield db

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, committed on success and rolled back on any error."""
        async with self._write() as db, db.begin():
            yield db

    async def close(self) -> None:
        await self.engine.dispose()
