"""Session service: listing, tenancy, roles, facts, fixes and state_version."""

from __future__ import annotations

import pytest

from flowpilot_tui.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from flowpilot_tui.services.sessions import SessionService


async def test_create_and_list_with_filter_search_and_pages(sessions) -> None:
    for i in range(7):
        await sessions.create(f"Printer {i} offline")
    await sessions.create("VPN DNS failure")
    page = await sessions.list_sessions(limit=3)
    assert page.total == 8 and len(page.items) == 3 and page.has_more
    assert page.items[0].title == "VPN DNS failure"  # newest first
    second = await sessions.list_sessions(limit=3, offset=3)
    assert not {s.id for s in second.items} & {s.id for s in page.items}
    assert (await sessions.list_sessions(search="vpn")).total == 1
    assert (await sessions.list_sessions(search="100%")).total == 0  # LIKE wildcards are literal
    assert (await sessions.list_sessions(status="resolved")).total == 0
    with pytest.raises(InvalidInput):
        await sessions.list_sessions(status="closed")


async def test_ticket_link_and_search_by_ticket(sessions, store, engineer) -> None:
    from flowpilot_tui.services import accounts

    await accounts.sync_connections(store, engineer, [("acme-cw", "connectwise")])
    linked = await sessions.create("Outlook prompts", connection_name="acme-cw", ticket_id=48213)
    assert linked.ticket_id == 48213 and linked.connection_name == "acme-cw"
    assert [s.id for s in (await sessions.list_sessions(search="#48213")).items] == [linked.id]
    with pytest.raises(NotFound):
        await sessions.create("x", connection_name="nope", ticket_id=1)
    with pytest.raises(InvalidInput):
        await sessions.create("x", ticket_id=5)
    with pytest.raises(InvalidInput):
        await sessions.create("   ")


async def test_other_account_session_is_not_found_for_reads_and_writes(sessions, store, outsider, clock) -> None:
    mine = await sessions.create("Mine")
    fact = await sessions.add_fact(mine.id, "symptom", "Printer offline")
    theirs = SessionService(store, outsider, clock)
    assert (await theirs.list_sessions()).total == 0
    calls = [
        theirs.get(mine.id),
        theirs.list_messages(mine.id),
        theirs.add_fact(mine.id, "symptom", "x"),
        theirs.edit_fact(mine.id, fact.id, text="x"),
        theirs.delete_fact(mine.id, fact.id),
        theirs.propose_fix(mine.id, "x"),
        theirs.append_message(mine.id, "user", "x"),
        theirs.pause(mine.id),
        theirs.save_draft(mine.id, "resolve", "x", 1),
    ]
    messages = set()
    for call in calls:
        with pytest.raises(NotFound) as err:
            await call
        messages.add(str(err.value))
    # Same message as a session that does not exist at all.
    with pytest.raises(NotFound) as missing:
        await theirs.get("00000000-0000-0000-0000-000000000000")
    assert messages == {f"Session {mine.id} not found"}
    assert str(missing.value).startswith("Session ") and str(missing.value).endswith(" not found")
    detail = await sessions.get(mine.id)
    assert [f.text for f in detail.facts] == ["Printer offline"]


async def test_viewer_reads_but_cannot_write(sessions, store, viewer, clock) -> None:
    s = await sessions.create("Shared")
    fix = await sessions.propose_fix(s.id, "Restart spooler")
    as_viewer = SessionService(store, viewer, clock)
    assert (await as_viewer.get(s.id)).summary.title == "Shared"
    for call in [
        as_viewer.create("x"),
        as_viewer.add_fact(s.id, "symptom", "x"),
        as_viewer.propose_fix(s.id, "x"),
        as_viewer.decide_fix(s.id, fix.id, "one_off"),
        as_viewer.pause(s.id),
        as_viewer.append_message(s.id, "user", "x"),
        as_viewer.save_draft(s.id, "resolve", "x", 1),
    ]:
        with pytest.raises(PermissionDenied):
            await call
    assert (await sessions.get(s.id)).summary.state_version == 2


async def test_fact_crud_bumps_state_version(sessions) -> None:
    s = await sessions.create("Slow share")
    assert s.state_version == 1
    fact = await sessions.add_fact(s.id, "tried", "Restarted Server service", outcome="No change")
    assert (await sessions.get(s.id)).summary.state_version == 2
    edited = await sessions.edit_fact(s.id, fact.id, text="Restarted LanmanServer", outcome="Still slow")
    assert (edited.text, edited.outcome) == ("Restarted LanmanServer", "Still slow")
    assert (await sessions.get(s.id)).summary.state_version == 3
    await sessions.delete_fact(s.id, fact.id)
    detail = await sessions.get(s.id)
    assert detail.facts == () and detail.summary.state_version == 4
    with pytest.raises(InvalidInput):
        await sessions.add_fact(s.id, "rumour", "x")
    with pytest.raises(InvalidInput):
        await sessions.add_fact(s.id, "symptom", "  ")
    with pytest.raises(NotFound):
        await sessions.edit_fact(s.id, 9999, text="x")


async def test_fix_lifecycle(sessions) -> None:
    s = await sessions.create("Outlook prompts")
    first = await sessions.propose_fix(s.id, "Reset sign-in", steps=["Sign out", "Sign in"], target_shell="powershell")
    second = await sessions.propose_fix(s.id, "Recreate profile", rationale="Stale autodiscover")
    detail = await sessions.get(s.id)
    assert detail.active_fix is not None and detail.active_fix.id == second.id
    assert [f.id for f in detail.fixes if f.active] == [second.id]  # at most one active
    old = next(f for f in detail.fixes if f.id == first.id)
    assert old.superseded_at is not None and old.steps == ("Sign out", "Sign in")
    # A decision on a superseded fix is recorded...
    decided = await sessions.decide_fix(s.id, first.id, "one_off")
    assert decided.user_decision == "one_off"
    # ...but dismissing it conflicts.
    with pytest.raises(Conflict, match="This fix is already superseded by a newer suggestion"):
        await sessions.decide_fix(s.id, first.id, "dismissed")
    dismissed = await sessions.decide_fix(s.id, second.id, "dismissed")
    assert dismissed.superseded_at is not None and dismissed.user_decision == "dismissed"
    detail = await sessions.get(s.id)
    assert detail.active_fix is None
    # create(1) + 2 proposals + 2 recorded decisions = 5 (the rejected dismissal did not bump)
    assert detail.summary.state_version == 5
    with pytest.raises(InvalidInput):
        await sessions.decide_fix(s.id, second.id, "maybe")


async def test_chat_messages_window(sessions) -> None:
    s = await sessions.create("Chat")
    for i in range(12):
        await sessions.append_message(s.id, "user" if i % 2 == 0 else "assistant", f"message {i}")
    last = await sessions.list_messages(s.id, limit=5)
    assert [m.content for m in last] == [f"message {i}" for i in range(7, 12)]
    earlier = await sessions.list_messages(s.id, limit=5, before_id=last[0].id)
    assert [m.content for m in earlier] == [f"message {i}" for i in range(2, 7)]
    assert (await sessions.get(s.id)).message_count == 12
    assert (await sessions.get(s.id)).summary.state_version == 1  # chat alone is not state


async def test_drafts_survive_and_are_per_kind(sessions, store, engineer, clock) -> None:
    s = await sessions.create("Drafts")
    await sessions.save_draft(s.id, "resolve", "Customer text", 1)
    await sessions.save_draft(s.id, "escalate", "Internal text", 1)
    await sessions.save_draft(s.id, "resolve", "Customer text, edited", 1)
    fresh = SessionService(store, engineer, clock)  # e.g. after a restart
    assert (await fresh.get(s.id)).drafts == {"resolve": "Customer text, edited", "escalate": "Internal text"}
    await fresh.discard_draft(s.id, "resolve")
    assert await fresh.get_draft(s.id, "resolve") is None


async def test_hash_search_matches_the_ticket_only(sessions, store, engineer) -> None:
    from flowpilot_tui.services import accounts

    await accounts.sync_connections(store, engineer, [("acme-cw", "connectwise")])
    ticket = await sessions.create("Outlook prompts", connection_name="acme-cw", ticket_id=4821)
    await sessions.create("Printer 4821 jams")  # a title containing the digits
    assert [s.id for s in (await sessions.list_sessions(search="#4821")).items] == [ticket.id]
    assert (await sessions.list_sessions(search="4821")).total == 2  # bare digits: title or ticket


async def test_request_escalation_records_the_reason_with_the_status(sessions, store) -> None:
    from flowpilot_tui.services.models import AISession

    s = await sessions.create("Slow share")
    await sessions.request_escalation(s.id, "Needs storage vendor access")
    async with store.read() as db:
        row = await db.get(AISession, s.id)
    assert (row.status, row.escalation_reason) == ("requesting_escalation", "Needs storage vendor access")
    with pytest.raises(Conflict):  # a second request conflicts and leaves the reason alone
        await sessions.request_escalation(s.id, "other")
    async with store.read() as db:
        assert (await db.get(AISession, s.id)).escalation_reason == "Needs storage vendor access"
