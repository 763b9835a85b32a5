"""Two FlowPilots on one database: a change made in one shows up in the other's session list, workspace and queue
without a key press there, named with who did what and when; the escalation queue (oldest first, who escalated, take
over, viewers, conflicts). Every test runs on SQLite and on PostgreSQL (tests/store_backends.py); one FlowPilot holds
one change feed (one LISTEN connection) however many screens follow it.

Every wait is on what the screen shows (wait_until), never a sleep. Two app instances run in one event loop, each
with its own Services (own engine and connections, like two engineers' terminals).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from support import FixedClock, add_member
from textual.widgets import TextArea
from tui_helpers import flat, flat_in, make_settings, open_session, settle, wait_until

from flowpilot_tui.app import make_app
from flowpilot_tui.screens.queue import QueueScreen
from flowpilot_tui.screens.session_list import SessionList
from flowpilot_tui.screens.workspace import Workspace
from flowpilot_tui.services import demo as demo_data
from flowpilot_tui.services.container import Services, open_services
from flowpilot_tui.services.handoff import HandoffService
from flowpilot_tui.services.sessions import SessionService
from flowpilot_tui.services.store import Store

OUTLOOK = "Outlook keeps"
BOB = "demo.colleague"  # Dana Ortiz, an engineer of the demo account
VIEWER = "demo.viewer"


@contextlib.asynccontextmanager
async def team(db_url: str, clock: FixedClock, *users: str) -> AsyncIterator[list[Services]]:
    """The demo account seeded once; one Services per user, each with its own store (its own connections)."""
    store = await Store.open(db_url)
    await demo_data.seed_demo(store, "alice", clock())
    await store.close()
    opened = [await open_services(make_settings(db_url, user), clock=clock) for user in users]
    try:
        yield opened
    finally:
        for services in opened:
            await services.close()


async def outlook_id(services: Services) -> str:
    return (await services.sessions.list_sessions(search=OUTLOOK)).items[0].id


async def next_heading(services: Services, sid: str, kind: str) -> str:
    """The facts pane's heading for `kind` once one more fact of it exists, e.g. 'Confirmed (3)'."""
    from flowpilot_tui.widgets.facts_pane import KIND_TITLE

    detail = await services.sessions.get(sid)
    return f"{KIND_TITLE[kind]} ({len(detail.facts_of(kind)) + 1})"


async def select_row(pilot: Any, sid: str) -> None:
    """Move the queue's cursor to session `sid` (the demo account has another queued session)."""
    screen = pilot.app.screen
    assert isinstance(screen, QueueScreen) and sid in screen.items
    while screen.selected_id != sid:
        await pilot.press("down")


async def outlook_preview(pilot: Any, app: Any) -> Workspace:
    """Open the demo Outlook session and focus its loaded preview editor (F5)."""
    await settle(pilot)
    await open_session(pilot, OUTLOOK)
    ws = app.screen
    assert isinstance(ws, Workspace)
    await pilot.press("f5")
    await wait_until(pilot, lambda: ws.current.loaded, "the preview text")
    return ws


async def saved_draft(pilot: Any, services: Services, sid: str, text: str) -> Any:
    """The resolve draft once the workspace's debounced autosave has written `text` (a condition, not a fixed wait:
    settling can return before the debounce timer fires, and on a loaded machine a pause mid-typing saves a part
    first); the last draft read if it never does."""
    draft = None
    for _ in range(300):
        draft = await services.sessions.get_draft(sid, "resolve")
        if draft is not None and draft[0] == text:
            break
        await pilot.pause(0.1)
    return draft


def app_for(services: Services) -> Any:
    """The app, recording every notification it shows (toasts expire; the record does not, so no test races a
    toast's timeout on a slow machine)."""
    app: Any = make_app(services.settings, services)
    app.notes_seen = []
    show = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        app.notes_seen.append(message)
        show(message, *args, **kwargs)

    app.notify = notify
    return app


def notes(app: Any) -> str:
    return " | ".join(app.notes_seen)


async def test_a_change_in_one_app_appears_in_the_others_list_and_workspace(db_url: str, clock: FixedClock) -> None:
    async with team(db_url, clock, "alice", BOB) as (alice, bob):
        sid = await outlook_id(alice)
        app_a, app_b = app_for(alice), app_for(bob)
        async with app_a.run_test(size=(120, 36)) as pa, app_b.run_test(size=(140, 40), notifications=True) as pb:
            await settle(pa)
            await settle(pb)
            assert isinstance(app_b.screen, SessionList)

            # 1. a new session made in alice's FlowPilot shows up in bob's list, no key pressed there
            await alice.sessions.create("Printer on fire in room 4")
            await wait_until(pb, lambda: "Printer on fire in room 4" in flat_in(app_b, "#sessions"), "new session")

            # 2. bob opens the Outlook session; alice records a fact: bob's facts pane and a notification show it
            await open_session(pb, OUTLOOK)
            assert isinstance(app_b.screen, Workspace)
            heading = await next_heading(alice, sid, "confirmed")
            await alice.sessions.add_fact(sid, "confirmed", "Caller confirms the MFA prompt loops")
            await wait_until(pb, lambda: heading in flat_in(app_b, "#pane-facts"), "the new fact's count")
            await wait_until(pb, lambda: "alice added a fact" in notes(app_b), "the change notification")
            assert re.search(r"alice added a fact (just now|\d+ s ago) \(alice's session\)\.", notes(app_b))

            # 3. status change and a new fix, still without input
            await alice.sessions.propose_fix(sid, "Repair Office", steps=["Run Quick Repair"])
            await wait_until(pb, lambda: "Repair Office" in flat_in(app_b, "#pane-fix"), "the new fix")
            await alice.sessions.pause(sid)
            await wait_until(pb, lambda: "paused" in flat_in(app_b, "#ws-header"), "the status")
            await wait_until(pb, lambda: "alice paused the session" in notes(app_b), "the named status change")
            assert "alice proposed a fix (Repair Office)" in notes(app_b)
            await settle(pa)


async def test_a_draft_being_typed_is_kept_and_the_engineer_is_told_who_changed_what(
    db_url: str, clock: FixedClock
) -> None:
    async with team(db_url, clock, "alice", BOB) as (alice, bob):
        sid = await outlook_id(alice)
        app_b = app_for(bob)
        async with app_b.run_test(size=(140, 40), notifications=True) as pb:
            ws = await outlook_preview(pb, app_b)
            area = ws.query_one("#pv-text", TextArea)
            assert area.has_focus
            await pb.press(*"Bob adds: restart the laptop. ")
            typed = area.text
            assert typed.startswith("Bob adds: restart the laptop. Issue reported")

            version = f"v{(await alice.sessions.get(sid)).summary.state_version + 1}"
            await alice.sessions.add_fact(sid, "tried", "Cleared credential manager", outcome="no change")
            await wait_until(pb, lambda: version in flat_in(app_b, "#ws-header"), "the new state version")
            await wait_until(pb, lambda: "Your draft is kept" in notes(app_b), "the notification")
            assert re.search(
                r"alice added a fact (just now|\d+ s ago) \(alice's session\)\. Your draft is kept\.", notes(app_b)
            )
            assert area.text == typed  # the editor was never reloaded over the engineer's keys
            assert "STALE: the session changed after this text was edited" in flat_in(app_b, "#pane-preview")
            draft = await saved_draft(pb, bob, sid, typed)  # the autosave after the typing pause
            assert draft is not None and draft[0] == typed  # and it reached the database


async def test_own_changes_are_not_announced_as_another_engineers(db_url: str, clock: FixedClock) -> None:
    async with team(db_url, clock, "alice") as (alice,):
        app = app_for(alice)
        async with app.run_test(size=(140, 40), notifications=True) as pilot:
            await settle(pilot)
            await open_session(pilot, OUTLOOK)
            heading = await next_heading(alice, await outlook_id(alice), "confirmed")
            await pilot.press("f2", *"/fact Mailbox is on the new tenant", "enter")
            await wait_until(pilot, lambda: heading in flat_in(app, "#pane-facts"), "our own fact")
            await pilot.press("f7")  # pause: a status change of our own
            await wait_until(pilot, lambda: "paused" in flat_in(app, "#ws-header"), "paused")
            # a later change by someone else is announced; by then every own change has been seen by the feed
            sid = await outlook_id(alice)
            async with team_member(alice, BOB) as bob:
                await bob.sessions.resume(sid)
                await wait_until(pilot, lambda: "resumed the session" in notes(app), "the other's change")
            shown = list(app.notes_seen)
            assert re.fullmatch(
                r"Dana Ortiz \(demo\) resumed the session (just now|\d+ s ago) \(alice's session\)\.", shown[-1]
            ), shown
            assert not any("another engineer" in m or "alice " in m for m in shown[:-1]), shown


@contextlib.asynccontextmanager
async def team_member(of: Services, login: str) -> AsyncIterator[Services]:
    services = await open_services(make_settings(of.settings.db_url, login), clock=of.clock)
    try:
        yield services
    finally:
        await services.close()


async def test_queue_take_over_shows_the_package_first_and_the_previous_owner_sees_it_live(
    db_url: str, clock: FixedClock
) -> None:
    async with team(db_url, clock, "alice", BOB) as (alice, bob):
        sid = await outlook_id(alice)
        app_a, app_b = app_for(alice), app_for(bob)
        async with (
            app_a.run_test(size=(140, 40), notifications=True) as pa,
            app_b.run_test(size=(140, 40), notifications=True) as pb,
        ):
            await settle(pa)
            await settle(pb)
            await pb.press("f6")  # bob: the escalation queue
            await settle(pb)
            assert isinstance(app_b.screen, QueueScreen)
            assert OUTLOOK not in flat(app_b)

            await alice.sessions.request_escalation(sid, "Needs tenant admin")
            await wait_until(pb, lambda: OUTLOOK in flat_in(app_b, "#queue-table"), "the queued session")
            row = flat_in(app_b, "#queue-table")
            assert "req. escalation" in row and "alice" in row and "Needs tenant admin" in row

            await open_session(pa, OUTLOOK)  # alice is looking at her session
            assert isinstance(app_a.screen, Workspace)
            await select_row(pb, sid)
            await pb.press("t")
            await wait_until(pb, lambda: isinstance(app_b.screen, Workspace), "bob's workspace")
            ws = app_b.screen
            assert isinstance(ws, Workspace)
            assert ws.kind == "escalate" and ws.pane == "preview"
            await wait_until(pb, lambda: ws.current.loaded, "the package")
            assert ws.query_one("#pv-text", TextArea).has_focus
            assert "ESCALATE" in flat_in(app_b, "#pane-preview")
            assert "You took this session over from alice. The escalation package is shown first" in notes(app_b)

            # alice sees it without a key press: header owner and a notification naming bob
            await wait_until(pa, lambda: "Dana Ortiz" in flat_in(app_a, "#ws-header"), "alice's header")
            await wait_until(pa, lambda: "took this session over" in notes(app_a), "alice's notification")
            assert "Dana Ortiz (demo) took this session over" in notes(app_a)
            assert (await alice.sessions.get(sid)).summary.owner_login == BOB
            trail = await HandoffService(alice.store, alice.actor, clock).history(sid)
            assert [(t["from_login"], t["to_login"]) for t in trail] == [("alice", BOB)]


async def test_a_take_that_lost_the_race_says_who_won_and_leaves_one_owner(db_url: str, clock: FixedClock) -> None:
    async with team(db_url, clock, "alice", BOB) as (alice, bob):
        sid = await outlook_id(alice)
        await alice.sessions.request_escalation(sid)
        app_b = app_for(bob)
        async with app_b.run_test(size=(140, 40), notifications=True) as pb:
            await settle(pb)
            await pb.press("f6")
            await wait_until(pb, lambda: OUTLOOK in flat_in(app_b, "#queue-table"), "the queue")
            screen = app_b.screen
            assert isinstance(screen, QueueScreen)
            await screen.live.close()  # bob's screen has not heard yet: the other take lands in between
            # carol, another engineer of the account, takes it first (through her own services)
            carol_actor = await add_member(alice.store, alice.actor, "carol", "engineer", clock)
            await HandoffService(alice.store, carol_actor, clock).take(sid, expected_owner_login="alice")
            await select_row(pb, sid)
            await pb.press("t")
            await wait_until(
                pb, lambda: "already took this session over" in notes(app_b), "the refusal " + notes(app_b)
            )
            assert "carol already took this session over at" in notes(app_b)
            assert "It is not yours; the queue is refreshed." in notes(app_b)
            assert isinstance(app_b.screen, QueueScreen)
            await wait_until(pb, lambda: "carol" in flat_in(app_b, "#queue-table"), "the refreshed owner")
            assert (await alice.sessions.get(sid)).summary.owner_login == "carol"


async def test_viewers_see_the_queue_but_cannot_take(db_url: str, clock: FixedClock) -> None:
    async with team(db_url, clock, "alice", VIEWER) as (alice, viewer):
        sid = await outlook_id(alice)
        await alice.sessions.request_escalation(sid)
        app = app_for(viewer)
        async with app.run_test(size=(140, 40), notifications=True) as pilot:
            await settle(pilot)
            await pilot.press("f6")
            await wait_until(pilot, lambda: OUTLOOK in flat_in(app, "#queue-table"), "the queue")
            assert "Read-only: your role (viewer) can see the escalation queue" in flat(app)
            await select_row(pilot, sid)
            await pilot.press("t")
            await wait_until(pilot, lambda: "cannot take sessions over" in notes(app), "the refusal")
            assert "Your role (viewer) can see the queue but cannot take sessions over." in notes(app)
            await settle(pilot)
            assert isinstance(app.screen, QueueScreen)
            assert (await alice.sessions.get(sid)).summary.owner_login == "alice"


async def test_the_queue_is_in_the_palette_and_oldest_first(db_url: str, clock: FixedClock) -> None:
    async with team(db_url, clock, "alice") as (alice,):
        page = await alice.sessions.list_sessions(status="active", limit=3)
        first, second = page.items[1].id, page.items[0].id
        await alice.sessions.request_escalation(first, "first in")
        await alice.sessions.request_escalation(second, "second in")
        app = app_for(alice)
        async with app.run_test(size=(140, 40)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*"escalation queue")
            await wait_until(pilot, lambda: "Session list: Escalation queue" in flat(app), "the palette entry")
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen), "the queue screen")
            await wait_until(pilot, lambda: "second in" in flat_in(app, "#queue-table"), "rows")
            table = flat_in(app, "#queue-table")
            assert table.index("first in") < table.index("second in")  # oldest first
            assert "3 sessions waiting · oldest first" in flat(app)  # the demo account queues one too


async def test_the_engineer_with_a_draft_is_told_who_edited_a_fact_and_when(db_url: str, clock: FixedClock) -> None:
    async with team(db_url, clock, "alice", BOB) as (alice, dana):
        sid = await outlook_id(alice)
        fact = (await alice.sessions.get(sid)).facts[0]
        app = app_for(alice)
        async with app.run_test(size=(140, 40), notifications=True) as pilot:
            ws = await outlook_preview(pilot, app)
            await pilot.press(*"Alice adds: reset the MFA method. ")
            typed = ws.query_one("#pv-text", TextArea).text

            def stamp_then_12_s_later() -> Any:  # Dana's write is stamped now; every later reading is 12 s on
                stamped = clock()
                clock.now += timedelta(seconds=12)
                return stamped

            # (advanced inside the write, before its commit: advancing after it raced alice's live re-read)
            await SessionService(dana.sessions.store, dana.sessions.actor, stamp_then_12_s_later).edit_fact(
                sid, fact.id, text="Prompt loops every 5 minutes since Monday"
            )
            await wait_until(pilot, lambda: "edited a fact" in notes(app), "the notification")
            found = re.search(
                r"Dana Ortiz \(demo\) edited a fact (\d+) s ago \(alice's session\)\. Your draft is kept\.", notes(app)
            )
            assert found and int(found.group(1)) >= 12, notes(app)
            assert "since Monday" in flat_in(app, "#pane-facts")
            assert ws.query_one("#pv-text", TextArea).text == typed
            await settle(pilot)


@pytest.mark.pg_only
async def test_one_listen_connection_per_app_and_every_screen_still_follows(db_url: str, clock: FixedClock) -> None:
    """The session list stays mounted under the workspace: both follow changes through the app's one feed."""
    from sqlalchemy import text

    async def listeners() -> int:
        async with alice.store.read() as db:
            found = await db.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
                )
            )
        return int(found or 0)

    async with team(db_url, clock, "alice", BOB) as (alice, bob):
        sid = await outlook_id(alice)
        app_b = app_for(bob)
        async with app_b.run_test(size=(140, 40), notifications=True) as pb:
            await settle(pb)
            await alice.sessions.create("Scanner offline on floor 2")
            await wait_until(pb, lambda: "Scanner offline on floor 2" in flat_in(app_b, "#sessions"), "new session")
            await open_session(pb, OUTLOOK)
            assert [type(s).__name__ for s in app_b.screen_stack[-2:]] == ["SessionList", "Workspace"]
            assert await listeners() == 1
            heading = await next_heading(alice, sid, "symptom")
            await alice.sessions.add_fact(sid, "symptom", "Prompt appears every 5 minutes")
            await wait_until(pb, lambda: heading in flat_in(app_b, "#pane-facts"), "the workspace's new fact")
            await pb.press("escape")
            await wait_until(pb, lambda: isinstance(app_b.screen, SessionList), "back on the list")
            await alice.sessions.create("Outlook keeps crashing on the front desk PC")  # matches the list's search
            await wait_until(pb, lambda: "crashing on the front desk" in flat_in(app_b, "#sessions"), "the list, live")
            assert await listeners() == 1
