"""Live updates: another connection's change to a session reaches a ChangeFeed without any input; one-line wording."""

from __future__ import annotations

from support import add_member

from flowpilot_tui.services.handoff import HandoffService
from flowpilot_tui.services.live import ChangeFeed, describe_change
from flowpilot_tui.services.sessions import SessionService
from flowpilot_tui.services.store import Store


async def test_another_engineers_fact_and_takeover_reach_the_feed(sessions, engineer, store, db_url, clock) -> None:
    s = await sessions.create("Shared session")
    bob = await add_member(store, engineer, "bob", "engineer", clock)
    other = await Store.open(db_url)  # a second FlowPilot: its own engine and connections
    feed = await ChangeFeed(store, engineer.account_id).start()
    try:
        before = await sessions.get(s.id)
        await SessionService(other, bob, clock).add_fact(s.id, "confirmed", "DNS resolves")
        got: set[str] = set()
        while s.id not in got:
            got |= await feed.next_batch(timeout=60)
            assert got, "no change arrived"
        after = await sessions.get(s.id)
        assert describe_change(before, after) == (
            "Changed by another engineer (alice's session): 1 new fact. Your draft is kept."
        )
        await sessions.request_escalation(s.id)
        await HandoffService(other, bob, clock).take(s.id, expected_owner_login="alice")
        got = set()
        while s.id not in got:
            got |= await feed.next_batch(timeout=60)
            assert got, "no change arrived"
        line = describe_change(after, await sessions.get(s.id))
        assert line.startswith("Changed by another engineer: bob took this session over; status is now requesting")
    finally:
        await feed.close()
        await other.close()


async def test_other_accounts_changes_are_not_delivered(sessions, engineer, outsider, store, db_url, clock) -> None:
    theirs = SessionService(store, outsider, clock)
    t = await theirs.create("Other MSP's")
    mine = await sessions.create("Mine")
    feed = await ChangeFeed(store, engineer.account_id).start()
    other = await Store.open(db_url)
    try:
        await SessionService(other, outsider, clock).add_fact(t.id, "symptom", "x")
        await SessionService(other, engineer, clock).add_fact(mine.id, "symptom", "y")  # then one of mine
        got: set[str] = set()
        while mine.id not in got:
            batch = await feed.next_batch(timeout=60)
            assert batch, "no change arrived"
            got |= batch
        assert t.id not in got
    finally:
        await feed.close()
        await other.close()
