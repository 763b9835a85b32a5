"""Accounts, users and connections: who the configured login is, and first-run set-up."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, text

from flowpilot_tui.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from flowpilot_tui.services.identity import Actor
from flowpilot_tui.services.models import ROLES, Account, PSAConnection, User
from flowpilot_tui.services.store import Store


async def is_empty(store: Store) -> bool:
    """True only when the database holds no account at all (first run: offer demo data or a new account).

    On PostgreSQL the app role sees no account until its login is on the transaction (row-level security), so a
    count there would call a team database with accounts "empty" and offer every member a fresh account of their
    own. Only a role that sees every row (the table owner, or one that bypasses row-level security) can tell;
    for any other role the database is not treated as empty, and an unknown login gets "not a member" instead."""
    async with store.read() as db:
        if store.is_postgres and not await db.scalar(text(SEES_EVERY_ACCOUNT)):
            return False
        return not await db.scalar(select(func.count()).select_from(Account))


# The connected role owns the accounts table (or is a member of its owner), or bypasses row-level security.
SEES_EVERY_ACCOUNT = """
SELECT pg_has_role(current_user, t.tableowner, 'MEMBER') OR r.rolbypassrls
FROM pg_tables t, pg_roles r
WHERE t.tablename = 'accounts' AND t.schemaname = current_schema() AND r.rolname = current_user
"""


async def resolve_actor(store: Store, login: str) -> Actor:
    """The configured login's identity, or `NotFound` with a hint on how to set one up."""
    async with store.read() as db:
        row = (
            await db.execute(
                select(User, Account).join(Account, Account.id == User.account_id).where(User.login == login)
            )
        ).first()
    if row is None:
        raise NotFound(
            f"User {login!r} is not a member of any account in this database "
            "(run `flowpilot demo` or `flowpilot init --account NAME`, or set `user` in the config)"
        )
    user, account = row
    return Actor(account.id, user.id, user.login, user.display_name, user.role, account.name, account.is_demo)


async def create_account(
    store: Store,
    name: str,
    admin_login: str,
    now: datetime,
    *,
    display_name: str | None = None,
    is_demo: bool = False,
    preferences: dict | None = None,
) -> Actor:
    name = name.strip()
    if not name:
        raise InvalidInput("Account name must not be empty")
    async with store.write() as db:
        if await db.scalar(select(User.id).where(User.login == admin_login)):
            raise Conflict(f"User {admin_login!r} already belongs to an account")
        account = Account(name=name, is_demo=is_demo, preferences=preferences or {}, created_at=now)
        db.add(account)
        await db.flush()
        user = User(
            account_id=account.id,
            login=admin_login,
            display_name=display_name or admin_login,
            role="admin",
            created_at=now,
        )
        db.add(user)
        await db.flush()
        return Actor(account.id, user.id, user.login, user.display_name, user.role, account.name, account.is_demo)


async def add_user(
    store: Store, actor: Actor, login: str, role: str, now: datetime, display_name: str | None = None
) -> None:
    if actor.role != "admin":
        raise PermissionDenied("Only an admin can add users")
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}; use one of: {', '.join(ROLES)}")
    async with store.write() as db:
        owner = await db.scalar(select(User.account_id).where(User.login == login))
        if owner == actor.account_id:
            raise Conflict(f"{login!r} is already a member of this account")
        if owner is not None:  # logins are global: say it cannot be used, never that another account has it
            raise Conflict(f"Cannot add {login!r}: that login is not available; choose another")
        db.add(
            User(
                account_id=actor.account_id, login=login, display_name=display_name or login, role=role, created_at=now
            )
        )


async def sync_connections(store: Store, actor: Actor, names: Iterable[tuple[str, str]]) -> None:
    """Mirror configured connection names (not credentials) into the account so sessions can link to them."""
    wanted = dict(names)
    if not wanted:
        return
    async with store.write() as db:
        existing = set(
            (await db.scalars(select(PSAConnection.name).where(PSAConnection.account_id == actor.account_id))).all()
        )
        for name, provider in wanted.items():
            if name not in existing:
                db.add(PSAConnection(account_id=actor.account_id, provider=provider, name=name))


async def get_preferences(store: Store, actor: Actor) -> dict:
    async with store.read() as db:
        account = await db.get(Account, actor.account_id)
        if account is None:
            raise NotFound("Account not found")
        return dict(account.preferences or {})


PREFERENCE_KEYS = ("cw_resolved_status_id", "cw_escalated_status_id")


async def set_preference(store: Store, actor: Actor, key: str, value: int | None) -> None:
    """Set (or, with None, unset) a ConnectWise target status id for resolves or escalations."""
    if actor.role != "admin":
        raise PermissionDenied("Only an admin can change account preferences")
    if key not in PREFERENCE_KEYS:
        raise InvalidInput(f"Unknown preference {key!r}; use one of: {', '.join(PREFERENCE_KEYS)}")
    if value is not None and (not isinstance(value, int) or value <= 0):
        raise InvalidInput(f"{key} must be a positive status id")
    async with store.write() as db:
        account = await db.get(Account, actor.account_id)
        if account is None:
            raise NotFound("Account not found")
        prefs = {**(account.preferences or {}), key: value}
        account.preferences = {k: v for k, v in prefs.items() if v is not None}
