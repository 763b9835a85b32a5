"""Live updates: another connection's change to a session reaches a ChangeFeed without any input; every session write
is audited with who and when, and the one-line wording names them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from support import add_member

from flowpilot_tui.config import LlmSettings
from flowpilot_tui.services.handoff import HandoffService
from flowpilot_tui.services.live import ChangeFeed, describe_change, recent_changes, reread
from flowpilot_tui.services.models import AuditEvent, User
from flowpilot_tui.services.scripts import ScriptService
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


async def test_every_session_write_is_audited_with_who_and_when(sessions, engineer, store, clock) -> None:
    s = await sessions.create("Shared session")
    bob = await add_member(store, engineer, "bob", "engineer", clock)
    theirs = SessionService(store, bob, clock)
    fact = await theirs.add_fact(s.id, "symptom", "Prompt loops")
    await theirs.edit_fact(s.id, fact.id, text="Prompt loops every 5 minutes")
    extra = await theirs.add_fact(s.id, "tried", "Rebooted")
    await theirs.delete_fact(s.id, extra.id)
    fix = await theirs.propose_fix(s.id, "Clear cached credentials", steps=["Open Credential Manager"])
    await theirs.decide_fix(s.id, fix.id, "one_off")
    scripts = ScriptService(store, bob, LlmSettings(), clock)
    await scripts.one_off(s.id, fix.id)
    tpl = await scripts.save_draft_template(s.id, fix.id)
    await scripts.save_template(tpl.id, tpl.name, tpl.shell, tpl.parameters, tpl.body)
    await theirs.append_message(s.id, "user", "Did that help?")
    await theirs.pause(s.id)
    await theirs.resume(s.id)
    await theirs.request_escalation(s.id, "needs admin")
    await HandoffService(store, bob, clock).take(s.id, expected_owner_login="alice")

    async with store.read() as db:
        rows = (
            await db.execute(
                select(AuditEvent.action, User.login, AuditEvent.created_at)
                .join(User, User.id == AuditEvent.user_id)
                .where(AuditEvent.session_id == s.id)
                .order_by(AuditEvent.id)
            )
        ).all()
    assert [(action, login) for action, login, _ in rows] == [
        ("fact.add", "bob"),
        ("fact.edit", "bob"),
        ("fact.add", "bob"),
        ("fact.delete", "bob"),
        ("fix.propose", "bob"),
        ("fix.decide", "bob"),
        ("script.create", "bob"),
        ("template.draft", "bob"),
        ("template.build", "bob"),
        ("chat.message", "bob"),
        ("session.pause", "bob"),
        ("session.resume", "bob"),
        ("session.request_escalation", "bob"),
        ("session.takeover", "bob"),
    ]
    times = [at for _, _, at in rows]
    assert times == sorted(times) and len(set(times)) == len(times)  # each at the time of its write (clock ticks)


async def test_the_live_line_names_who_did_what_and_how_long_ago(sessions, engineer, store, clock) -> None:
    s = await sessions.create("Shared session")
    fact = await sessions.add_fact(s.id, "symptom", "Prompt loops")
    dana = await add_member(store, engineer, "dana", "engineer", clock)
    before = await sessions.get(s.id)
    await SessionService(store, dana, clock).edit_fact(s.id, fact.id, text="Prompt loops every 5 minutes")
    clock.now += timedelta(seconds=11)  # the edit read the clock last: the next reading is 12 s after it
    after, changes = await reread(sessions, s.id, before, now=clock())
    assert changes is not None and [(e.who, e.action) for e in changes.events] == [("dana", "fact.edit")]
    assert describe_change(before, after, by=changes) == (
        "dana edited a fact 12 s ago (alice's session). Your draft is kept."
    )
    # several writes by two engineers: each named once, in order, with the age of their latest write
    bob = await add_member(store, engineer, "bob", "engineer", clock)
    await SessionService(store, dana, clock).add_fact(s.id, "tried", "Re-registered MFA")
    await SessionService(store, dana, clock).add_fact(s.id, "tried", "New profile")
    await SessionService(store, bob, clock).pause(s.id)
    now = clock()
    later = await sessions.get(s.id)
    changes = await recent_changes(store, engineer.account_id, s.id, after.summary.updated_at, engineer.user_id, now)
    line = describe_change(after, later, by=changes, has_draft=False)
    assert line == "dana added 2 facts 2 s ago; bob paused the session 1 s ago (alice's session)."
    # my own writes are not someone else's change, and no audited write falls back to the unnamed wording
    mine = await recent_changes(store, engineer.account_id, s.id, later.summary.updated_at, engineer.user_id, now)
    assert not mine
    assert describe_change(after, later, has_draft=False) == (
        "Changed by another engineer (alice's session): status is now paused; 2 new facts."
    )


async def test_one_feed_serves_every_subscriber(sessions, engineer, store, db_url, clock) -> None:
    s = await sessions.create("Shared session")
    first: asyncio.Queue[set[str]] = asyncio.Queue()
    second: asyncio.Queue[set[str]] = asyncio.Queue()
    feed = await ChangeFeed(store, engineer.account_id, on_change=first.put_nowait).start()
    unsubscribe = feed.subscribe(second.put_nowait)
    other = await Store.open(db_url)
    try:
        await SessionService(other, engineer, clock).add_fact(s.id, "symptom", "x")
        for queue in (first, second):
            got: set[str] = set()
            while s.id not in got:
                got |= await asyncio.wait_for(queue.get(), 60)
        unsubscribe()
        await SessionService(other, engineer, clock).add_fact(s.id, "symptom", "y")
        got = set()
        while s.id not in got:
            got |= await asyncio.wait_for(first.get(), 60)
        assert second.empty()  # an unsubscribed screen hears nothing more
    finally:
        await feed.close()
        await other.close()
