"""Every other text field under terminal-style bursts on a slowed loop (see typing_harness): the new-session dialog,
the session list and ticket picker searches, the template builder, the escalation reason and the time entry notes of
Confirm & post. Backspace runs between typed runs, Enter / F2 / ctrl+y right behind the text and key-ahead while a
worker runs: the exact text is stored."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App
from textual.widgets import Button, Input, TextArea
from tui_helpers import make_settings, settle, wait_until
from typing_harness import burst, new_session_dialog, slowed_loop, until_drained

from flowpilot_tui.app import make_app
from flowpilot_tui.screens.new_session import NewSession
from flowpilot_tui.screens.template_builder import TemplateBuilder
from flowpilot_tui.screens.workspace import Workspace
from flowpilot_tui.services.container import Services
from flowpilot_tui.widgets.confirm_dialog import ConfirmDialog
from flowpilot_tui.widgets.ordered_keys import OrderedInput, OrderedTextArea
from flowpilot_tui.widgets.session_table import SessionTable


def test_every_text_field_of_the_app_applies_keys_in_order() -> None:
    """A field built as a plain Input / TextArea would bring the out-of-order Backspace back (source check)."""
    from pathlib import Path

    import flowpilot_tui

    root = Path(flowpilot_tui.__file__).parent
    plain = []
    for path in [*root.glob("screens/*.py"), *root.glob("widgets/*.py")]:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "yield Input(" in line or "yield TextArea(" in line:
                plain.append(f"{path.name}:{n}")
    assert plain == []


# ---- the new-session dialog --------------------------------------------------------------------------------------


async def _titles(services: Services) -> list[str]:
    return sorted(s.title for s in (await services.sessions.list_sessions()).items)


async def test_new_session_title_typed_in_a_burst_with_backspaces_and_enter_is_stored_exactly(
    store, engineer, clock, db_url
):
    async with new_session_dialog(store, engineer, clock, db_url) as (services, app, pilot):
        with slowed_loop():
            burst(app, "Printer offk\x7fline on floor 2" + "\x7f" * 7 + "the 2nd floor\r")  # Enter right behind
            await wait_until(pilot, lambda: not isinstance(app.screen, NewSession), "dialog closed")
            await wait_until(pilot, lambda: isinstance(app.screen, Workspace), "workspace of the new session")
            await settle(pilot)
        assert await _titles(services) == ["Printer offline on the 2nd floor"]


# ---- the session list search ------------------------------------------------------------------------------------


def _shown(app: Any) -> list[str]:
    return sorted(s.title for s in app.screen.query_one(SessionTable)._rows)


async def test_list_search_edited_while_a_search_runs_shows_what_was_typed(store, engineer, clock, db_url):
    services = Services(make_settings(db_url), store, engineer, clock)
    for title in ("Printer offline", "Printer jams on tray 2", "VPN drops every hour", "Outlook prompts"):
        await services.sessions.create(title)
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        search = app.screen.query_one("#search", Input)
        assert app.focused is search
        with slowed_loop():
            burst(app, "printre\x7f\x7fer")
            await wait_until(pilot, lambda: _shown(app) == ["Printer jams on tray 2", "Printer offline"], "search 1")
            burst(app, "\x7f" * 7 + "vpm\x7fn dr")  # typed while the list is read (and re-read per change)
            await until_drained(pilot, lambda: search.value == "vpn dr", "search text")
            await wait_until(pilot, lambda: _shown(app) == ["VPN drops every hour"], "search 2")
            burst(app, "\x7f\x7f\x7f\r")  # Enter right behind: searches "vpn", focus to the list
            await until_drained(pilot, lambda: app.focused is app.screen.query_one(SessionTable), "list focused")
            await settle(pilot)
        assert search.value == "vpn" and _shown(app) == ["VPN drops every hour"]


async def test_slash_search_enter_enter_typed_at_once_opens_the_session_searched_for(store, engineer, clock, db_url):
    """Slash focuses the search from a callback and Enter focuses the list from another: typed in one burst, the first
    letter used to land in the list ("angup") and the second Enter opened the row shown before the search."""
    services = Services(make_settings(db_url), store, engineer, clock)
    await services.sessions.create("Hangup check: scanner offline")
    await services.sessions.create("Printer offline")  # the newest: the first row until the search is applied
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(_shown(app)) == 2, "both sessions listed")
        with slowed_loop():
            burst(app, "/Hangup\r\r")
            await until_drained(pilot, lambda: isinstance(app.screen, Workspace), "the workspace opened")
        assert app.screen.session_id == (await services.sessions.list_sessions(search="Hangup")).items[0].id


# ---- the template builder ------------------------------------------------------------------------------------------


class Harness(App[Any]):
    def __init__(self, screen: Any) -> None:
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)


async def _template(store, engineer, clock, db_url) -> tuple[Services, Any]:  # type: ignore[no-untyped-def]
    services = Services(make_settings(db_url), store, engineer, clock)
    s = await services.sessions.create("Printer offline")
    fix = await services.sessions.propose_fix(s.id, "Restart spooler on <Computer>", steps=["Restart-Service Spooler"])
    return services, await services.scripts.save_draft_template(s.id, fix.id)


async def test_template_name_saved_by_f2_right_behind_the_typing_and_key_ahead_stays_unsaved(
    store, engineer, clock, db_url
):
    services, tpl = await _template(store, engineer, clock, db_url)
    app = Harness(TemplateBuilder(services, tpl))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        name = screen.query_one("#tpl-name", Input)
        assert isinstance(screen, TemplateBuilder) and app.focused is name
        with slowed_loop():  # End, erase the name, retype it, F2 and typing on, all at once
            burst(app, "<end>" + "\x7f" * len(name.value) + "Restatr\x7f\x7frt print spooler<f2> (v2")
            await until_drained(pilot, lambda: screen.saved is not None, "template saved")
            await until_drained(pilot, lambda: name.value == "Restart print spooler (v2", "name field")
            await settle(pilot)
        assert (await services.scripts.get_template(tpl.id)).name == "Restart print spooler"
        assert screen._dirty()  # what was typed after F2 is an unsaved edit, not part of the saved template


async def test_template_parameters_and_body_typed_in_bursts_are_saved_exactly(store, engineer, clock, db_url):
    services, tpl = await _template(store, engineer, clock, db_url)
    app = Harness(TemplateBuilder(services, tpl))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TemplateBuilder)
        params, body = screen.query_one("#tpl-params", TextArea), screen.query_one("#tpl-body", TextArea)
        assert isinstance(params, OrderedTextArea) and isinstance(body, OrderedTextArea)
        params.text, body.text = "", ""
        with slowed_loop():
            params.focus()
            await pilot.pause()
            burst(app, "Comptu\x7f\x7futer | Print serr\x7fver | PRN0\x7f01")
            await until_drained(pilot, lambda: params.text == "Computer | Print server | PRN01", "parameters")
            body.focus()
            await pilot.pause()
            burst(app, "Restart-Servcie\x7f\x7f\x7fice -Name Spooler -ComputerName {{Compt\x7futer}}")
            burst(app, "<f2>")
            await until_drained(pilot, lambda: screen.saved is not None, "template saved")
            await settle(pilot)
        stored = await services.scripts.get_template(tpl.id)
        assert stored.body == "Restart-Service -Name Spooler -ComputerName {{Computer}}"
        assert [(p.name, p.description, p.default) for p in stored.parameters] == [
            ("Computer", "Print server", "PRN01")
        ]


# ---- the escalation reason (ConfirmDialog's reason field) -----------------------------------------------------------


async def test_escalation_reason_typed_in_a_burst_with_backspaces_is_recorded_exactly(store, engineer, clock, db_url):
    from flowpilot_tui.services.handoff import HandoffService

    services = Services(make_settings(db_url), store, engineer, clock)
    await services.sessions.create("File share full")
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, Workspace), "workspace")
        await settle(pilot)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "escalation dialog")
        reason = app.screen.query_one("#reason", Input)
        assert isinstance(reason, OrderedInput)
        reason.focus()
        await pilot.pause()
        with slowed_loop():
            burst(app, "needs stroage\x7f\x7f\x7f\x7f\x7forage admni\x7f\x7fin")
            await until_drained(pilot, lambda: reason.value == "needs storage admin", "reason text")
        app.screen.query_one("#confirm", Button).press()  # Enter in the field does not confirm (by design)
        await wait_until(pilot, lambda: isinstance(app.screen, Workspace), "dialog closed")
        await settle(pilot)
    queue = await HandoffService(services.store, services.actor, services.clock).queue()
    assert [item.reason for item in queue] == ["needs storage admin"]


# ---- the ticket picker search -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("cw_env")
async def test_ticket_search_typed_in_a_burst_and_enter_searches_exactly(db_url, clock, cw_env):
    from test_tui_tickets import open_picker, running, settings_for, table_ids

    async with running(db_url, clock, settings_for(db_url, cw_env)) as (_services, app, pilot):
        picker = await open_picker(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, OrderedInput)
        with slowed_loop():
            burst(app, "#4813\x7f\x7f214\r")  # Enter right behind the corrected number
            await until_drained(pilot, lambda: "matching “#48214”" in picker.status_text, "search result")
            await settle(pilot)
        assert table_ids(picker) == [48214]
        assert picker.query_one("#tp-search", Input).value == "#48214"


@pytest.mark.usefixtures("cw_env")
async def test_time_entry_notes_typed_in_a_burst_then_ctrl_y_are_posted_exactly(db_url, clock, cw_env):
    from test_tui_tickets import TICKET, confirm_with_draft, notes, open_picker, pick, running, settings_for

    async with running(db_url, clock, settings_for(db_url, cw_env)) as (services, app, pilot):
        workspace = await pick(pilot, await open_picker(pilot), TICKET)
        modal = await confirm_with_draft(pilot, services, workspace)
        field = modal.query_one("#cp-time-notes", Input)
        assert isinstance(field, OrderedInput)
        field.value = ""
        field.focus()
        await pilot.pause()
        with slowed_loop():
            burst(app, "Rolled bakc\x7f\x7fck the DNS prxo\x7f\x7foxy<ctrl+y>")
            await wait_until(pilot, lambda: any(m.startswith("Resolved") for m in notes(app)), "outcome")
            await settle(pilot)
        (entry,) = cw_env.time_entries_on(TICKET)
        assert entry.notes == "Rolled back the DNS proxy"
