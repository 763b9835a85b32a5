"""Plain test helpers shared by the fixtures and the tests: a fixed clock and actors of seeded accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class FixedClock:
    """Deterministic time: starts at 2026-11-24 09:00 UTC and ticks one second per reading."""

    def __init__(self, start: datetime = START, step: timedelta = timedelta(seconds=1)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        value = self.now
        self.now += self.step
        return value


async def make_actor(store, login: str, role: str, account: str, clock: FixedClock, **prefs):  # type: ignore[no-untyped-def]
    """Create an account whose admin is `login`, then give that user `role`."""
    from flowpilot_tui.services import accounts
    from flowpilot_tui.services.identity import Actor
    from flowpilot_tui.services.models import User

    actor = await accounts.create_account(store, account, login, clock(), preferences=prefs or None)
    async with store.write() as db:
        user = await db.get(User, actor.user_id)
        user.role = role
    return Actor(actor.account_id, actor.user_id, login, login, role, account)


async def add_member(store, actor, login: str, role: str, clock: FixedClock):  # type: ignore[no-untyped-def]
    from flowpilot_tui.services.identity import Actor
    from flowpilot_tui.services.models import User

    async with store.write() as db:
        user = User(account_id=actor.account_id, login=login, display_name=login, role=role, created_at=clock())
        db.add(user)
        await db.flush()
        return Actor(actor.account_id, user.id, login, login, role, actor.account_name)
