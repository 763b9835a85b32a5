"""PostgreSQL half of the store (`postgresql+asyncpg://…`): revision probe, migrations, write locking, tenancy scope
and error wording. `services.store` calls in here only when the URL names PostgreSQL; SQLite stays the default.

- Write transactions take a transaction-scoped advisory lock (`pg_advisory_xact_lock`), the PostgreSQL counterpart of
  SQLite's `BEGIN IMMEDIATE`: read-then-write rules (the posting lease, "one owner" takeovers, unique logins) keep
  their guarantee across processes and hosts, and `state_version + 1` stays exact. Locks are released at commit.
- Every transaction sets `flowpilot.account_id` / `flowpilot.login` with `set_config(…, true)` (transaction-local),
  which the row-level security policies of migration 0005 read. The application's own account filters stay.
- Migrations run over the async engine (no sync driver needed) under a session advisory lock, so two processes
  starting at once never migrate twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from flowpilot_tui.services.errors import ConfigError, DomainError

WRITE_LOCK_KEY = 0x466C6F77  # "Flow": one key for every FlowPilot write transaction on this database
MIGRATE_LOCK_KEY = 0x466C6F78
# SQLSTATEs that mean "try again": serialization failure, deadlock, admin shutdown, crash shutdown, cannot connect now.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001"})


class StoreUnavailable(DomainError):
    """The shared database could not complete the request (connection lost, server restarting, serialization)."""

    exit_code = 1


def is_postgres(db_url: str) -> bool:
    try:
        return make_url(db_url).get_backend_name() == "postgresql"
    except Exception:
        return False


def safe_url(db_url: str) -> str:
    """The URL for messages: never the password."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable db_url)"


def check_url(db_url: str) -> None:
    url = make_url(db_url)
    if url.drivername != "postgresql+asyncpg":
        raise ConfigError(f"db_url: use postgresql+asyncpg:// for PostgreSQL (got {url.drivername}://)")
    if not url.database:
        raise ConfigError(f"db_url: {safe_url(db_url)} names no database")


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of an asyncpg error wrapped by SQLAlchemy (or None)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(code, str):
            return code
        current = getattr(current, "orig", None) or current.__cause__
    return None


def is_transient(exc: BaseException) -> bool:
    if sqlstate(exc) in TRANSIENT_SQLSTATES:
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        if isinstance(current, ConnectionError | TimeoutError) or name in (
            "ConnectionDoesNotExistError",
            "InterfaceError",
            "ConnectionFailureError",
            "CannotConnectNowError",
        ):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


def unavailable(db_url: str, exc: BaseException) -> StoreUnavailable:
    code = sqlstate(exc)
    if code in ("40001", "40P01"):
        what = "another engineer's change collided with this one (nothing was saved); try again"
    else:
        what = "the connection to the database was lost (nothing was saved); check the server and try again"
    return StoreUnavailable(f"Database {safe_url(db_url)}: {what}")


def _connect_error(db_url: str, exc: BaseException) -> ConfigError:
    code = sqlstate(exc)
    name = type(getattr(exc, "orig", None) or exc).__name__
    if code == "28P01" or code == "28000":
        what = "refused the login (check the user and password in db_url)"
    elif code == "3D000":
        what = "has no such database (create it first; see README 'Team on PostgreSQL')"
    elif code == "42501":
        what = "denied access to the schema (the app role needs the grants from `flowpilot db upgrade` as the owner)"
    elif isinstance(exc, OSError) or "connect" in str(exc).lower() or name.endswith("ConnectionError"):
        what = "cannot be reached (is the server running and the host/port right?)"
    else:
        what = f"cannot be opened ({name})"
    return ConfigError(f"db_url: PostgreSQL at {safe_url(db_url)} {what}")


def create_engine(db_url: str) -> AsyncEngine:
    check_url(db_url)
    # pre_ping: a connection the server dropped (restart, idle timeout) is replaced before use, not failed.
    return create_async_engine(db_url, pool_pre_ping=True, pool_size=5, max_overflow=5)


async def current_revision(conn: AsyncConnection) -> str | None:
    exists = await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return None
    return await conn.scalar(text("SELECT version_num FROM alembic_version LIMIT 1"))


def _run_alembic(sync_conn: Any, revision: str, migrations_dir: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", migrations_dir)
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, revision)


async def upgrade(
    engine: AsyncEngine,
    migrations_dir: str,
    head: str,
    known: set[str],
    *,
    revision: str = "head",
    migrate: bool = True,
) -> None:
    """Bring the schema to `revision` (one process at a time), or explain why it cannot be used."""
    db_url = engine.url.render_as_string(hide_password=False)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATE_LOCK_KEY})
            try:
                await conn.commit()
                current = await current_revision(conn)
                await conn.commit()
                if current is not None and current not in known:
                    raise ConfigError(
                        f"db_url: {safe_url(db_url)} was written by a newer FlowPilot (schema {current}; this version "
                        f"knows up to {head}); upgrade FlowPilot to use it"
                    )
                if migrate and (revision != "head" or current != head):
                    try:
                        await conn.run_sync(_run_alembic, revision, migrations_dir)
                        await conn.commit()
                    except Exception as exc:
                        await conn.rollback()
                        if sqlstate(exc) == "42501":
                            raise ConfigError(
                                f"db_url: {safe_url(db_url)} is at schema {current or 'none'} and this role may not "
                                f"upgrade it to {head}; run `flowpilot db upgrade` with the owner role's db_url"
                            ) from None
                        raise
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATE_LOCK_KEY})
                await conn.commit()
    except ConfigError:
        raise
    except Exception as exc:
        raise _connect_error(db_url, exc) from None


def install_scope_hook(session_class: type, scope: tuple[int | None, str | None], *, write: bool) -> None:
    """Every transaction of `session_class` sets the tenancy scope; write ones also take the write lock."""

    account_id, login = scope

    @event.listens_for(session_class, "after_begin")
    def _after_begin(_session: Any, _transaction: Any, connection: Any) -> None:
        sql = "SELECT set_config('flowpilot.account_id', :a, true), set_config('flowpilot.login', :l, true)"
        if write:
            sql += ", pg_advisory_xact_lock(:k)"
        connection.execute(
            text(sql), {"a": "" if account_id is None else str(account_id), "l": login or "", "k": WRITE_LOCK_KEY}
        )
