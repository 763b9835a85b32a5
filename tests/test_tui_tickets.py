"""Working from the ticket queue in the TUI, against the ConnectWise emulator (real provider over loopback HTTP):
pick a ticket → import → resolve with note + time entry + verified status in one confirmation; search answered by
the PSA (counted requests); a ticket closed by someone else flagged in the header and the modal; PSA errors as a
message on the picker. From an empty database (an account with no sessions), with the member and time settings.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cw_fixtures import PRIVATE_KEY, Sleeps
from post_helpers import open_modal
from support import FixedClock
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Input, Static
from tui_helpers import CW_KEY_ENV, flat, flat_in, make_settings, settle, wait_until

from flowpilot_tui.app import make_app
from flowpilot_tui.config import Settings
from flowpilot_tui.emulators.connectwise import ConnectWiseEmulator
from flowpilot_tui.emulators.connectwise_state import seed_demo_notes
from flowpilot_tui.screens.confirm_post import ConfirmPost
from flowpilot_tui.screens.session_list import SessionList
from flowpilot_tui.screens.ticket_picker import TicketPicker
from flowpilot_tui.screens.workspace import Workspace
from flowpilot_tui.widgets.chat_pane import ChatPane
from flowpilot_tui.widgets.session_header import SessionHeader
from flowpilot_tui.widgets.ticket_table import TicketTable

TICKET = 48214
NOTE = "Rolled back the firewall DNS proxy setting; internal names resolve over VPN again."


def settings_for(db_url: str, cw: ConnectWiseEmulator, *, member: str = "asmith", time: bool = True) -> Settings:
    times = {"time_work_type": "Remote Support", "time_billable": "Billable"} if time else {}
    return make_settings(db_url, cw=cw, cw_options={"member_identifier": member, **times})


async def empty_account(db_url: str, clock: FixedClock) -> None:
    """`flowpilot init` as a service call: an account with alice as admin, resolves move the ticket to 17."""
    from flowpilot_tui.services import accounts
    from flowpilot_tui.services.store import Store

    store = await Store.open(db_url)
    try:
        actor = await accounts.create_account(store, "Acme IT", "alice", clock())
        await accounts.set_preference(store.scoped(actor.account_id, actor.login), actor, "cw_resolved_status_id", 17)
    finally:
        await store.close()


@pytest.fixture
def cw_env(cw_env: ConnectWiseEmulator) -> ConnectWiseEmulator:
    """The emulator (key in the environment) with the demo tickets' discussion and internal notes."""
    with cw_env.state.lock:
        seed_demo_notes(cw_env.state)
    return cw_env


async def services_for(db_url: str, clock: FixedClock, settings: Settings) -> Any:
    from flowpilot_tui.services.container import open_services

    await empty_account(db_url, clock)
    return await open_services(settings, clock=clock, psa_sleep=Sleeps())


@contextlib.asynccontextmanager
async def running(
    db_url: str, clock: FixedClock, settings: Settings, *, record: bool = True
) -> AsyncIterator[tuple[Any, Any, Pilot[Any]]]:
    """(services, app, pilot) of a FlowPilot app on an empty account; services closed however the test ends."""
    services = await services_for(db_url, clock, settings)
    app = make_app(services.settings, services)
    if record:
        recording(app)
    try:
        async with app.run_test(size=(120, 36), notifications=True) as pilot:
            yield services, app, pilot
    finally:
        await services.close()


async def confirm_with_draft(pilot: Pilot[Any], services: Any, workspace: Workspace) -> ConfirmPost:
    """The engineer's resolve note saved as a draft and shown, then F9: the Confirm & post modal."""
    sid = workspace.session_id
    detail = await services.sessions.get(sid)
    await services.sessions.save_draft(sid, "resolve", NOTE, detail.summary.state_version)
    workspace.drafts.unload("resolve")
    workspace.load_preview("resolve")
    return await open_modal(pilot)


def notes(app: Any) -> list[str]:
    """Every notification shown so far (recorded, so an expired toast on a slow machine is not missed)."""
    seen: list[str] = app.seen_notifications
    return seen


def recording(app: Any) -> Any:
    app.seen_notifications = []
    real = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        app.seen_notifications.append(str(message))
        real(message, *args, **kwargs)

    app.notify = notify
    return app


async def open_picker(pilot: Pilot[Any]) -> TicketPicker:
    await settle(pilot)
    assert isinstance(pilot.app.screen, SessionList)
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, TicketPicker), "ticket picker")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TicketPicker)
    return screen


def table_ids(picker: TicketPicker) -> list[int]:
    table = picker.query_one(TicketTable)
    return [int(str(key.value)) for key in table.rows]


async def pick(pilot: Pilot[Any], picker: TicketPicker, ticket_id: int) -> Workspace:
    table = picker.query_one(TicketTable)
    table.move_cursor(row=table_ids(picker).index(ticket_id))
    await pilot.pause()
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, Workspace), "workspace")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, Workspace)
    return screen


def list_requests(cw: ConnectWiseEmulator) -> list[Any]:
    return [r for r in cw.api_calls("GET") if r.api_path == "/service/tickets"]


# ---- the whole day: pick → import → resolve with note + time + status ---------------------------------------


async def test_pick_import_and_resolve_with_time_entry_in_one_confirmation(
    db_url: str, clock: FixedClock, cw_env: ConnectWiseEmulator
) -> None:
    cw = cw_env
    async with running(db_url, clock, settings_for(db_url, cw)) as (services, app, pilot):
        picker = await open_picker(pilot)
        # asmith owns 48213, 48216, 48217 and is a resource on 48214; 48215 is jsmith's
        assert sorted(table_ids(picker)) == [48213, 48214, 48216, 48217]
        text = flat(app)
        assert "Fabrikam Dental" in text and "VPN connects but internal DNS" in text and "New" in text
        assert "4 ticket(s) shown (connection demo-cw)" in picker.status_text
        workspace = await pick(pilot, picker, TICKET)
        assert any(f"Ticket #{TICKET} imported" in m for m in notes(app))
        assert "VPN connects but internal DNS names do not resolve" in flat(app)
        chat = " ".join(text for _role, text in workspace.query_one(ChatPane).log_view.entries)
        assert "Called Priya: affects all remote staff at Riverside." in chat  # ticket context in the chat
        assert "Internal · John Smith" in chat or "Discussion · John Smith" in chat
        header = workspace.query_one(SessionHeader)
        await wait_until(pilot, lambda: header.ticket_text == "CW: New", "live status in the header")
        assert "CW: New" in flat(app)
        sid = workspace.session_id

        since = len(cw.requests)
        modal = await confirm_with_draft(pilot, services, workspace)
        opening = [(r.method, r.api_path) for r in cw.requests[since:] if r.api_path.startswith("/service/tickets")]
        assert opening == [("GET", f"/service/tickets/{TICKET}")]  # plan and live status share one read
        start, end = modal.query_one("#cp-time-start", Input), modal.query_one("#cp-time-end", Input)
        assert (start.value, end.value) == ("09:00", "09:01")  # the session's activity today (fixed clock)
        assert modal.query_one("#cp-time-notes", Input).value == NOTE
        start.value, end.value = "09:00", "09:45"
        await pilot.pause()
        said = str(modal.query_one("#cp-time", Static).render())
        assert "First add a time entry of 0.75 h (09:00–09:45 UTC, Remote Support, Billable)" in said
        assert "member asmith" in said
        assert not modal.query_one("#cp-confirm", Button).disabled
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: any(m.startswith("Resolved") for m in notes(app)), "outcome")
        await settle(pilot)

        (entry,) = cw.time_entries_on(TICKET)  # stored once
        assert entry.member.identifier == "asmith" and entry.notes == NOTE
        resolution = [n for n in cw.notes_on(TICKET) if n.flags["resolutionFlag"]]
        assert len(resolution) == 1 and resolution[0].text == NOTE  # the note once, not copied by the entry
        assert cw.state.tickets[TICKET].status_id == 17
        (done,) = [m for m in notes(app) if m.startswith("Resolved")]
        assert "status verified: Completed (17)" in done
        assert f"time entry #{entry.id} (0.75 h) posted and verified" in done
        assert (await services.sessions.get(sid)).summary.status == "resolved"
        writes = [(r.method, r.api_path) for r in cw.requests if r.method in ("POST", "PATCH")]
        assert writes == [
            ("POST", "/time/entries"),
            ("POST", f"/service/tickets/{TICKET}/notes"),
            ("PATCH", f"/service/tickets/{TICKET}"),
        ]


async def test_no_time_entry_tick_and_a_second_import_opens_the_same_session(
    db_url: str, clock: FixedClock, cw_env: ConnectWiseEmulator
) -> None:
    cw = cw_env
    async with running(db_url, clock, settings_for(db_url, cw)) as (services, app, pilot):
        first = await pick(pilot, await open_picker(pilot), TICKET)
        sid = first.session_id
        await pilot.press("escape")  # back to the list
        await wait_until(pilot, lambda: isinstance(app.screen, SessionList), "session list")
        again = await pick(pilot, await open_picker(pilot), TICKET)
        assert again.session_id == sid
        assert any(f"Ticket #{TICKET} was already imported; opening its session" in m for m in notes(app))
        assert (await services.sessions.list_sessions()).total == 1

        modal = await confirm_with_draft(pilot, services, again)
        modal.query_one("#cp-time-end", Input).value = "8:30"  # before the start: refused, modal stays
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmPost)
        assert any("must end after it starts" in m for m in notes(app))
        modal.query_one("#cp-no-time", Checkbox).value = True
        await pilot.pause()
        assert "No time entry (ticked below)" in str(modal.query_one("#cp-time", Static).render())
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: any(m.startswith("Resolved") for m in notes(app)), "outcome")
        assert cw.time_entries_on(TICKET) == []
        (done,) = [m for m in notes(app) if m.startswith("Resolved")]
        assert "no time entry: no time entry was asked for" in done


# ---- search and paging are answered by the PSA -----------------------------------------------------------------


async def test_search_and_load_more_are_one_psa_page_each_in_a_5000_ticket_queue(
    db_url: str, clock: FixedClock, cw_env: ConnectWiseEmulator
) -> None:
    cw = cw_env
    with cw.state.lock:
        cw.state.seed_queue(5000, member="asmith")
    async with running(db_url, clock, settings_for(db_url, cw)) as (services, app, pilot):
        picker = await open_picker(pilot)
        assert len(table_ids(picker)) == 25 and table_ids(picker)[0] == 105000  # newest activity first
        assert "more on ConnectWise" in picker.status_text
        assert len(list_requests(cw)) == 1

        await pilot.press("right_square_bracket")  # load more
        await settle(pilot)
        assert len(table_ids(picker)) == 50
        (first, more) = list_requests(cw)
        assert (first.query.get("page"), more.query.get("page")) == ("1", "2")
        assert more.query.get("pageSize") == "25"

        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"#102468")
        await pilot.press("enter")
        await settle(pilot)
        assert table_ids(picker) == [102468]
        requests = list_requests(cw)
        assert len(requests) == 3  # one request per page and per search: the queue is never fetched whole
        conditions = requests[-1].query["conditions"]
        assert "id=102468" in conditions and 'summary contains "#102468"' in conditions
        assert "closedFlag=false" in conditions and 'owner/identifier="asmith"' in conditions
        assert cw.rows_served("/service/tickets") == 25 + 25 + 1
        assert "1 ticket(s) matching “#102468” shown" in picker.status_text
        print(f"\npicker on a 5,000-ticket queue: {len(requests)} list requests for page 1, page 2 and a search")


# ---- someone else closed the ticket ----------------------------------------------------------------------------


async def test_ticket_closed_by_someone_else_is_flagged_in_header_and_modal(
    db_url: str, clock: FixedClock, cw_env: ConnectWiseEmulator
) -> None:
    cw = cw_env
    async with running(db_url, clock, settings_for(db_url, cw)) as (services, app, pilot):
        workspace = await pick(pilot, await open_picker(pilot), TICKET)
        header = workspace.query_one(SessionHeader)
        await wait_until(pilot, lambda: header.ticket_text == "CW: New", "live status")
        with cw.state.lock:
            cw.state.add_ticket_note(TICKET, "Fixed it myself, closing. [bold]thanks[/bold]", contact="Priya Shah")
        cw.close_ticket_by_other(TICKET)
        await pilot.press("ctrl+s")  # sync
        await wait_until(pilot, lambda: "closed" in header.ticket_text, "closed flag")
        await settle(pilot)
        assert header.ticket_text == "CW: Closed — closed in CW!"
        assert "CW: Closed — closed in CW!" in flat(app)
        chat = flat_in(app, "#pane-chat")
        assert "Fixed it myself, closing. [bold]thanks[/bold]" in chat, chat  # shown literally, not as markup
        assert any(f"Ticket #{TICKET} is closed in ConnectWise (status Closed)" in m for m in notes(app))
        assert any(f"Ticket #{TICKET} synced: 1 new note(s); status Closed" in m for m in notes(app))

        modal = await confirm_with_draft(pilot, services, workspace)
        warning = str(modal.query_one("#cp-ticket-warning", Static).render())
        assert f"Ticket #{TICKET} is closed in ConnectWise (status Closed)" in warning
        await pilot.press("escape")
        await settle(pilot)
        assert cw.time_entries_on(TICKET) == []
        assert not [n for n in cw.notes_on(TICKET) if n.flags["resolutionFlag"]]


# ---- errors are a message on the picker ------------------------------------------------------------------------


async def test_unreachable_psa_is_a_message_on_the_picker(
    db_url: str, clock: FixedClock, cw_env: ConnectWiseEmulator
) -> None:
    cw = cw_env
    settings = settings_for(db_url, cw)
    cw.stop()  # nothing listens on the port any more
    async with running(db_url, clock, settings) as (services, app, pilot):
        picker = await open_picker(pilot)
        status = picker.query_one("#tp-status", Static)
        assert status.has_class("-error")
        print(f"\nunreachable PSA on the picker: {picker.status_text}")
        assert picker.status_text.startswith("No answer from ConnectWise")
        assert table_ids(picker) == []
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionList), "back on the list")


async def test_unknown_member_and_no_connection_are_messages(
    db_url: str, clock: FixedClock, cw_env: ConnectWiseEmulator
) -> None:
    cw = cw_env
    settings = settings_for(db_url, cw, member="nobody")
    async with running(db_url, clock, settings) as (services, app, pilot):
        picker = await open_picker(pilot)
        assert "ConnectWise has no member 'nobody'" in picker.status_text
        assert picker.query_one("#tp-status", Static).has_class("-error")
        services.settings.connections.clear()
        services.tickets.connections.clear()
        await pilot.press("f5")
        await settle(pilot)
        assert "no PSA connection is configured" in picker.status_text


async def test_the_command_palette_offers_new_session_from_ticket(
    db_url: str, clock: FixedClock, cw_env: ConnectWiseEmulator
) -> None:
    async with running(db_url, clock, settings_for(db_url, cw_env), record=False) as (services, app, pilot):
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"from ticket")
        await wait_until(pilot, lambda: "Session list: From ticket" in flat(app), "palette hit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TicketPicker), "ticket picker from the palette")


# ---- snapshot ----------------------------------------------------------------------------------------------------


def test_ticket_picker_snapshot(snap_compare: Any, db_url: str, cw: ConnectWiseEmulator, monkeypatch: Any) -> None:
    monkeypatch.setenv(CW_KEY_ENV, PRIVATE_KEY)
    clock = FixedClock()
    asyncio.run(empty_account(db_url, clock))
    with cw.state.lock:
        cw.state.tickets[48216].summary = "[red]Urgent[/red] file server slow after patching"
    app = make_app(settings_for(db_url, cw), clock=FixedClock())

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_picker(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
