"""Escalation handoff: queue (oldest first, who escalated), take-over (audited), viewers cannot take, one owner."""

from __future__ import annotations

import asyncio

import pytest
from support import add_member

from flowpilot_tui.services.errors import Conflict, NotFound, PermissionDenied
from flowpilot_tui.services.handoff import HandoffService
from flowpilot_tui.services.store import Store


async def test_queue_lists_escalations_oldest_first_and_take_moves_ownership(
    sessions, store, engineer, viewer, outsider, clock
) -> None:
    first = await sessions.create("VPN drops")
    await sessions.request_escalation(first.id, "Needs network team")
    second = await sessions.create("Printer")
    await sessions.request_escalation(second.id)
    await sessions.create("Not queued")
    bob = await add_member(store, engineer, "bob", "engineer", clock)

    queue = await HandoffService(store, viewer, clock).queue()  # viewers can see the queue
    assert [q.summary.id for q in queue] == [first.id, second.id]
    assert queue[0].escalated_by_login == "alice" and queue[0].reason == "Needs network team"
    assert queue[0].age_seconds(clock()) > 0
    assert await HandoffService(store, outsider, clock).queue() == []  # other account: nothing

    with pytest.raises(PermissionDenied):
        await HandoffService(store, viewer, clock).take(first.id)
    taken = await HandoffService(store, bob, clock).take(first.id)
    assert taken.detail.summary.owner_login == "bob" and taken.previous_owner_login == "alice"
    trail = await HandoffService(store, engineer, clock).history(first.id)
    assert [(t["from_login"], t["to_login"]) for t in trail] == [("alice", "bob")]
    assert {q.summary.id for q in await HandoffService(store, bob, clock).queue()} == {first.id, second.id}
    with pytest.raises(Conflict, match="already yours"):
        await HandoffService(store, bob, clock).take(first.id)
    with pytest.raises(NotFound):
        await HandoffService(store, outsider, clock).take(first.id)


async def test_two_engineers_taking_at_once_end_with_one_owner(sessions, store, engineer, db_url, clock) -> None:
    s = await sessions.create("Escalate me")
    await sessions.request_escalation(s.id)
    bob = await add_member(store, engineer, "bob", "engineer", clock)
    carol = await add_member(store, engineer, "carol", "engineer", clock)
    stores = [await Store.open(db_url) for _ in range(2)]  # two engines: two connections, like two processes
    try:
        results = await asyncio.gather(
            HandoffService(stores[0], bob, clock).take(s.id, expected_owner_login="alice"),
            HandoffService(stores[1], carol, clock).take(s.id, expected_owner_login="alice"),
            return_exceptions=True,
        )
    finally:
        for st in stores:
            await st.close()
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(losses) == 1, results
    owner = (await sessions.get(s.id)).summary.owner_login
    assert owner == wins[0].detail.summary.owner_login
    assert "already took this session over" in str(losses[0])
    assert len(await HandoffService(store, engineer, clock).history(s.id)) == 1
