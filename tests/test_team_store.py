"""Team store on PostgreSQL: row-level security as the app role, the app role is not the owner, clear errors."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from flowpilot_tui.services.errors import ConfigError, NotFound
from flowpilot_tui.services.models import AISession, ChatMessage, SessionFact, User
from flowpilot_tui.services.sessions import SessionService
from flowpilot_tui.services.store import Store

pytestmark = pytest.mark.pg_only


async def test_unscoped_query_as_account_b_sees_none_of_account_a(
    sessions, store, engineer, outsider, clock, pg_app_url
) -> None:
    mine = await sessions.create("Account A's printer")
    await sessions.add_fact(mine.id, "symptom", "Printer offline")
    await sessions.append_message(mine.id, "user", "hello")
    theirs = await SessionService(store, outsider, clock).create("Account B's VPN")

    app = await Store.open(pg_app_url)
    try:
        as_b = app.scoped(outsider.account_id, outsider.login)
        async with as_b.read() as db:  # deliberately no account filter
            ids = set((await db.scalars(select(AISession.id))).all())
            assert ids == {theirs.id}
            assert await db.scalar(select(func.count()).select_from(SessionFact)) == 0
            assert await db.scalar(select(func.count()).select_from(ChatMessage)) == 0
            assert set((await db.scalars(select(User.login))).all()) == {"mallory"}
        async with app.read() as db:  # no account on the transaction at all: nothing
            assert await db.scalar(select(func.count()).select_from(AISession)) == 0
        # Writing into account A's session as B is refused by the database itself.
        with pytest.raises(Exception, match="row-level security"):
            async with as_b.write() as db:
                db.add(
                    SessionFact(
                        session_id=mine.id, kind="symptom", text="x", source="engineer",
                        created_at=clock(), updated_at=clock(),
                    )
                )  # fmt: skip
        # The app's own rules still answer first: another account's session is "not found".
        with pytest.raises(NotFound):
            await SessionService(as_b, outsider, clock).get(mine.id)
        # A is fully visible to A through the app role.
        as_a = app.scoped(engineer.account_id, engineer.login)
        assert (await SessionService(as_a, engineer, clock).get(mine.id)).facts[0].text == "Printer offline"
    finally:
        await app.close()


async def test_app_role_is_not_the_owner_and_cannot_change_the_schema(store, engineer, pg_app_url) -> None:
    app = await Store.open(pg_app_url)
    try:
        async with app.read() as db:
            owner = await db.scalar(text("SELECT tableowner FROM pg_tables WHERE tablename = 'ai_sessions'"))
            me = await db.scalar(text("SELECT current_user"))
        assert owner == "flowpilot_owner" and me == "flowpilot_app"
        with pytest.raises(Exception, match="must be owner|permission denied"):
            async with app.write() as db:
                await db.execute(text("ALTER TABLE ai_sessions DISABLE ROW LEVEL SECURITY"))
    finally:
        await app.close()


async def test_open_services_as_app_role_resolves_the_login_and_scopes_to_its_account(
    sessions, engineer, outsider, store, clock, pg_app_url, monkeypatch
) -> None:
    from flowpilot_tui.config import Settings
    from flowpilot_tui.services.container import open_services

    await sessions.create("A1")
    await SessionService(store, outsider, clock).create("B1")
    monkeypatch.setenv("FLOWPILOT_USER", "mallory")  # the environment beats init arguments
    services = await open_services(Settings(db_url=pg_app_url))
    try:
        assert services.actor.account_id == outsider.account_id
        assert [s.title for s in (await services.sessions.list_sessions()).items] == ["B1"]
    finally:
        await services.close()
    with pytest.raises(NotFound):
        monkeypatch.setenv("FLOWPILOT_USER", "nobody")
        await open_services(Settings(db_url=pg_app_url))


async def test_unreachable_server_is_one_clear_line(db_backend) -> None:
    with pytest.raises(ConfigError) as err:
        await Store.open("postgresql+asyncpg://flowpilot_app:secret@127.0.0.1:1/flowpilot")
    assert "cannot be reached" in str(err.value) and "secret" not in str(err.value)


async def test_a_team_database_with_accounts_is_never_first_run_for_the_app_role(store, engineer, pg_app_url) -> None:
    """Row-level security hides every account from the app role until its login is on the transaction: counting
    them there called a shared database "empty" and offered each member a fresh account (seen running the README's
    team steps). Only a role that sees every row may decide the database is empty."""
    from flowpilot_tui.services import accounts

    app = await Store.open(pg_app_url)
    try:
        assert not await accounts.is_empty(app)
        assert not await accounts.is_empty(app.scoped(login="nobody"))
        assert not await accounts.is_empty(store)  # the owner sees the account
        async with store.write() as db:  # the owner on a database with no account left: first run
            for table in ("audit_events", "psa_connections", "users", "accounts"):
                await db.execute(text(f"DELETE FROM {table}"))
        assert await accounts.is_empty(store)
    finally:
        await app.close()


def _team_app(pg_app_url: str, login: str, clock):  # type: ignore[no-untyped-def]
    from tui_helpers import make_settings

    from flowpilot_tui.app import make_app

    return make_app(make_settings(pg_app_url, login), clock=clock)


async def test_the_tui_as_the_app_role_opens_the_members_list_and_refuses_a_stranger(
    sessions, engineer, clock, pg_app_url, capsys
) -> None:
    from tui_helpers import flat, settle, wait_until

    from flowpilot_tui.screens.session_list import SessionList

    await sessions.create("Printer offline at reception")
    app = _team_app(pg_app_url, engineer.login, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SessionList), "the session list")
        await wait_until(pilot, lambda: "Printer offline at reception" in flat(app), "the member's session")
        assert "Welcome to FlowPilot" not in flat(app)
    stranger = _team_app(pg_app_url, "eve", clock)
    async with stranger.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
    assert stranger.return_code == 2
    assert "User 'eve' is not a member of any account" in " ".join(capsys.readouterr().err.split())
