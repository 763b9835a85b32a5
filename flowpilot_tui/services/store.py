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

from flowpilot_tui.services import store_pg as _pg
from flowpilot_tui.services.errors import ConfigError

BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _revision_ids() -> dict[str, str]:
    """File number -> revision id: files are named `NNNN_*.py`; the id is NNNN or a longer id ("0003_search")."""
    import re

    ids = {}
    for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"):
        found = re.search(r'^revision = "([^"]+)"', p.read_text(encoding="utf-8"), re.MULTILINE)
        ids[p.name.split("_", 1)[0]] = found.group(1) if found else p.name.split("_", 1)[0]
    return ids


def head_revision() -> str:
    """Newest migration id (the revision of the highest-numbered file)."""
    ids = _revision_ids()
    return ids[max(ids)]


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
    if _pg.is_postgres(db_url):
        _upgrade_postgres_sync(db_url, revision)
        return
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
            connection.exec_driver_sql("ANALYZE")  # planner statistics, so list queries pick the right index
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


SQLITE_HEADER = b"SQLite format 3\x00"
PROBE_TIMEOUT_S = 10.0  # how long open waits for another process's write lock before saying the file is locked


def known_revisions() -> set[str]:
    """Every revision id this version ships: the `revision = "..."` of each file (and its NNNN file number)."""
    import re

    ids: set[str] = set()
    for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"):
        ids.add(p.name.split("_", 1)[0])
        found = re.search(r'^revision = "([^"]+)"', p.read_text(encoding="utf-8"), re.MULTILINE)
        if found:
            ids.add(found.group(1))
    return ids


def _classify(path: Path, exc: BaseException) -> ConfigError:
    """One line for a failed open/upgrade/probe of `path`, from the sqlite error text (no SQL in it)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        what = "is locked by another program (a long write is in progress); try again, or close the other program"
    elif "readonly" in text or "read-only" in text:
        what = "is read-only; FlowPilot needs to write to it (and to create files next to it)"
    elif "not a database" in text or "malformed" in text or "file is encrypted" in text:
        what = "is not a FlowPilot database (not a readable SQLite file)"
    elif "unable to open" in text or "permission" in text or isinstance(exc, PermissionError):
        what = "cannot be opened (check that it and its folder are readable and writable)"
    else:
        what = f"cannot be opened or upgraded ({exc.__class__.__name__})"
    return ConfigError(f"db_url: {path} {what}")


def prepare_file(path: Path, *, migrate: bool, db_url: str) -> None:
    """Check the file is a usable SQLite database of a schema this version knows, upgrade it (one process at a time
    across processes) and turn WAL on. Raises `ConfigError` with a clear line otherwise."""
    import os

    if path.is_dir():
        raise ConfigError(f"db_url: {path} is a directory, not a database file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"db_url: cannot create {path.parent}: {exc.strerror}") from None
    if path.exists():
        try:
            with path.open("rb") as fh:
                header = fh.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise ConfigError(f"db_url: cannot read {path}: {exc.strerror}") from None
        if header and header != SQLITE_HEADER:
            raise ConfigError(f"db_url: {path} is not a FlowPilot database (not an SQLite file)")
        if not os.access(path, os.W_OK):
            raise ConfigError(f"db_url: {path} is read-only; FlowPilot needs to write to it")
    try:
        with _migration_lock(path):
            revision = current_revision(path)
            if revision is not None and revision not in known_revisions():
                raise ConfigError(
                    f"db_url: {path} was written by a newer FlowPilot (schema {revision}; this version knows up to "
                    f"{head_revision()}); upgrade FlowPilot to use it"
                )
            if migrate and revision != head_revision():
                upgrade_schema(db_url)
            _probe_writable(path)
            _enable_wal(path)
    except ConfigError:
        raise
    except Exception as exc:  # sqlite3 / SQLAlchemy / OS errors: classified, never raw SQL
        raise _classify(path, exc) from None


class _migration_lock:  # noqa: N801 - used as a context manager
    """An exclusive lock on `<db>.lock` so two processes never run migrations on one file at once (the second
    waits, then finds the schema current). No-op where a lock file cannot be created."""

    def __init__(self, path: Path) -> None:
        self.lock_path = path.with_name(path.name + ".lock")
        self.fh: Any = None

    def __enter__(self) -> None:
        try:
            import fcntl

            self.fh = self.lock_path.open("a")
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX)
        except (OSError, ImportError):
            if self.fh is not None:
                self.fh.close()
            self.fh = None

    def __exit__(self, *_exc: object) -> None:
        if self.fh is not None:
            self.fh.close()  # closing releases the flock


def _probe_writable(path: Path) -> None:
    """Read the schema and take (then drop) the write lock: a file that is not a database, read-only or locked by
    another program fails here, at open, instead of on the first query."""
    with sqlite3.connect(path, timeout=PROBE_TIMEOUT_S) as conn:
        conn.isolation_level = None
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")


def _upgrade_postgres_sync(db_url: str, revision: str) -> None:
    """`upgrade_schema` for PostgreSQL: Alembic over the async engine, in a thread of its own (callers may be inside
    an event loop)."""
    import asyncio
    import threading

    errors: list[BaseException] = []

    async def run() -> None:
        engine = _pg.create_engine(db_url)
        try:
            await _pg.upgrade(engine, str(MIGRATIONS_DIR), head_revision(), _known_revisions(), revision=revision)
        finally:
            await engine.dispose()

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, name="flowpilot-migrate")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _known_revisions() -> set[str]:
    return known_revisions()


Scope = tuple[int | None, str | None]  # (account id, login) set on every PostgreSQL transaction for row-level security


class Store:
    """Owns the engine; hands out read and write sessions."""

    def __init__(self, engine: AsyncEngine, db_url: str, *, scope: Scope = (None, None)) -> None:
        self.engine = engine
        self.db_url = db_url
        self.scope = scope
        self.is_postgres = engine.dialect.name == "postgresql"
        if self.is_postgres:
            from sqlalchemy.orm import Session

            read_cls = type("ScopedReadSession", (Session,), {})
            write_cls = type("ScopedWriteSession", (Session,), {})
            _pg.install_scope_hook(read_cls, scope, write=False)
            _pg.install_scope_hook(write_cls, scope, write=True)
            self._read = async_sessionmaker(engine, expire_on_commit=False, sync_session_class=read_cls)
            self._write = async_sessionmaker(engine, expire_on_commit=False, sync_session_class=write_cls)
            return
        self._read = async_sessionmaker(engine, expire_on_commit=False)
        self._write = async_sessionmaker(engine.execution_options(sqlite_immediate=True), expire_on_commit=False)

    def scoped(self, account_id: int | None = None, login: str | None = None) -> Store:
        """The same database (shared engine) acting for one account/login: on PostgreSQL every transaction sets
        them for the row-level security policies. On SQLite the scope is informational."""
        return Store(self.engine, self.db_url, scope=(account_id, login))

    @classmethod
    async def _open_postgres(cls, db_url: str, *, migrate: bool) -> Store:
        engine = _pg.create_engine(db_url)
        try:
            await _pg.upgrade(engine, str(MIGRATIONS_DIR), head_revision(), _known_revisions(), migrate=migrate)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, db_url)

    @classmethod
    async def open(cls, db_url: str, *, migrate: bool = True) -> Store:
        """Open (and upgrade) the database. Every way the file can be unusable ends in one `ConfigError` line that
        says what is wrong with which path: never SQL, never a hang."""
        if _pg.is_postgres(db_url):
            return await cls._open_postgres(db_url, migrate=migrate)
        path = sqlite_path(db_url)
        if path is None and not db_url.rstrip("/").endswith(":memory:"):
            raise ConfigError(
                f"db_url: {db_url!r} names no database file; use sqlite+aiosqlite:////absolute/path/flowpilot.db"
            )
        if path is not None:
            prepare_file(path, migrate=migrate, db_url=db_url)
        engine = create_async_engine(db_url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _install_sqlite_hooks(engine)
        return cls(engine, db_url)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as db:
            yield db

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, committed on success and rolled back on any error. On PostgreSQL a lost connection
        or a serialization failure ends in one `StoreUnavailable` line (nothing of the transaction was saved)."""
        if not self.is_postgres:
            async with self._write() as db, db.begin():
                yield db
            return
        from sqlalchemy.exc import DBAPIError

        async with self._write() as db:
            try:
                async with db.begin():
                    yield db
            except DBAPIError as exc:
                if _pg.is_transient(exc):
                    raise _pg.unavailable(self.db_url, exc) from None
                raise

    async def close(self) -> None:
        if self.engine.dialect.name == "sqlite":  # keep the planner's statistics fresh (cheap; usually a no-op)
            try:
                async with self.engine.connect() as conn:
                    await conn.exec_driver_sql("PRAGMA optimize")
            except Exception:  # a busy or read-only file must not make closing fail
                pass
        await self.engine.dispose()
