"""Session list, first run, start-up errors, keymap, theme and palette: what an engineer sees and can do."""

from __future__ import annotations

from typing import Any

import pytest
from cw_fixtures import PRIVATE_KEY
from sqlalchemy import select
from support import FixedClock
from textual.pilot import Pilot
from textual.widgets import Button, Input, Label, Select
from tui_helpers import CW_CONNECTION, demo_services, flat, make_settings, settle

from flowpilot_tui import ui_state
from flowpilot_tui.app import make_app
from flowpilot_tui.emulators.connectwise import ConnectWiseEmulator
from flowpilot_tui.screens.first_run import FirstRun
from flowpilot_tui.screens.help import HelpScreen
from flowpilot_tui.screens.new_session import NewSession
from flowpilot_tui.screens.session_list import SessionList
from flowpilot_tui.screens.workspace import Workspace
from flowpilot_tui.services.models import AISession
from flowpilot_tui.widgets.session_table import SessionTable


@pytest.fixture
async def demo(db_url: str, clock: FixedClock):  # type: ignore[no-untyped-def]
    services = await demo_services(db_url, clock)
    yield services
    await services.close()


def rows(app) -> int:  # type: ignore[no-untyped-def]
    return app.screen.query_one(SessionTable).row_count


async def test_list_shows_ticket_title_status_owner_and_update(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        text = flat(app)
        assert isinstance(app.screen, SessionList)
        assert "#48213 Outlook keeps prompting for password after M365 migration active alice" in text
        assert "Accounting share on FS01 very slow since Tuesday req. escalation Dana Ortiz" in text
        assert "resolved" in text and "1–4 of 4 sessions" in text


async def test_status_filter_and_search_narrow_the_list(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert rows(app) == 4
        await pilot.press("f3")  # all -> active
        await settle(pilot)
        assert app.screen.query_one("#status", Select).value == "active"
        assert rows(app) == 2 and "Printer" not in flat(app)
        await pilot.press("f3", "f3", "f3", "f3")  # paused, requesting, escalated, resolved
        await settle(pilot)
        assert rows(app) == 1 and "Second-floor shared printer" in flat(app)
        await pilot.press("f3", "slash", *"#48213", "enter")  # back to all statuses, search by ticket
        await settle(pilot)
        assert rows(app) == 1 and "Outlook keeps prompting" in flat(app)
        app.screen.query_one("#search", Input).value = "nothing like this"
        await pilot.press("slash", "enter")
        await settle(pilot)
        assert rows(app) == 0 and "No sessions match the search/filter" in flat(app)


async def test_next_and_previous_page(demo) -> None:
    for n in range(60):
        await demo.sessions.create(f"Bulk session {n:03d}")
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert rows(app) == 50 and "1–50 of 64 sessions · page 1/2" in flat(app)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert rows(app) == 14 and "51–64 of 64 sessions · page 2/2" in flat(app)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "page 1/2" in flat(app)


async def test_a_search_typed_back_to_what_is_shown_keeps_the_page(demo, monkeypatch: pytest.MonkeyPatch) -> None:
    """On page 2, a key typed into the search and erased again leaves the search as it was: the list stays on
    page 2 (the debounce used to reload page 1, which also cancelled a page being read)."""
    from flowpilot_tui.screens import session_list

    monkeypatch.setattr(session_list, "SEARCH_DEBOUNCE_S", 1.0)  # both keys land inside it, even on a busy machine
    for n in range(60):
        await demo.sessions.create(f"Bulk session {n:03d}")
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "51–64 of 64 sessions · page 2/2" in flat(app)
        await pilot.press("slash", "x", "backspace")
        await pilot.pause(2.0)  # the span in which the debounce would fire (not a sync wait)
        await settle(pilot)
        assert "51–64 of 64 sessions · page 2/2" in flat(app)


async def new_linked_session(pilot: Pilot[Any], title: str, ticket: str) -> None:
    """ctrl+n, the title, connection acme-cw and the ticket number typed, Enter."""
    await settle(pilot)
    await pilot.press("ctrl+n")
    await settle(pilot)
    assert isinstance(pilot.app.screen, NewSession)
    await pilot.press(*title)
    pilot.app.screen.query_one("#connection", Select).value = "acme-cw"
    pilot.app.screen.query_one("#ticket", Input).focus()
    await pilot.press(*ticket, "enter")
    await settle(pilot)


async def test_new_session_linked_to_a_ticket_opens_its_workspace(
    db_url: str, clock: FixedClock, cw: ConnectWiseEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ticket is read while the dialog is open: one that does not exist is refused there, title kept."""
    monkeypatch.setenv("CW_TEST_PRIVATE_KEY", PRIVATE_KEY)
    live = {**CW_CONNECTION, "api_url": f"{cw.site_url}/v4_6_release/apis/3.0", "company_id": cw.company_id}
    live |= {"public_key": cw.public_key, "client_id": cw.client_id}
    services = await demo_services(db_url, clock, connections={"acme-cw": live})
    try:
        app = make_app(services.settings, services)
        async with app.run_test(size=(120, 36)) as pilot:
            await new_linked_session(pilot, "Printer [bold]jam[/bold]", "#999999")
            assert isinstance(app.screen, NewSession), "a ticket that does not exist must not be linked"
            assert "Ticket #999999 does not exist in acme-cw" in flat(app)
            assert app.screen.query_one("#title", Input).value == "Printer [bold]jam[/bold]"
            app.screen.query_one("#ticket", Input).value = ""
            await pilot.press(*"48213", "enter")
            await settle(pilot)
            assert isinstance(app.screen, Workspace)
            assert "#48213 Printer [bold]jam[/bold]" in flat(app)
        async with services.store.read() as db:
            linked = (
                await db.scalars(select(AISession.psa_ticket_id).where(AISession.psa_ticket_id.is_not(None)))
            ).all()
        assert 999999 not in linked and 48213 in linked
    finally:
        await services.close()


async def test_unreachable_psa_is_said_and_create_again_links_the_ticket_unchecked(
    db_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CW_TEST_PRIVATE_KEY", PRIVATE_KEY)
    services = await demo_services(db_url, clock, connections={"acme-cw": CW_CONNECTION})  # port 9: refused
    try:
        app = make_app(services.settings, services)
        async with app.run_test(size=(120, 36)) as pilot:
            await new_linked_session(pilot, "Printer jam", "#7001")
            assert isinstance(app.screen, NewSession)
            problem = str(app.screen.query_one("#ticket-problem", Label).render())
            assert problem.startswith("Could not check ticket #7001: No answer from ConnectWise"), problem
            assert problem.endswith("Create again links it anyway.")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, Workspace)
            assert "#7001 Printer jam" in flat(app)
        async with services.store.read() as db:
            row = await db.scalar(select(AISession).where(AISession.psa_ticket_id == 7001))
        assert row is not None and row.title == "Printer jam" and row.status == "active"
    finally:
        await services.close()


async def test_viewer_sees_sessions_but_cannot_create(db_url: str, clock: FixedClock) -> None:
    services = await demo_services(db_url, clock, user="demo.viewer")
    try:
        app = make_app(services.settings, services)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            assert rows(app) == 4
            assert "Read-only: your role (viewer)" in flat(app)
            assert app.screen.query_one("#new", Button).disabled
            await pilot.press("ctrl+n")
            await settle(pilot)
            assert isinstance(app.screen, SessionList)
    finally:
        await services.close()


async def test_first_run_offers_demo_data(db_url: str, clock: FixedClock) -> None:
    app = make_app(make_settings(db_url), clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstRun)
        assert "Load demo data" in flat(app) and "Start an empty account" in flat(app)
        await pilot.press("enter")  # "Load demo data" has focus
        await settle(pilot)
        assert isinstance(app.screen, SessionList)
        assert rows(app) == 4 and "Demo MSP (demo data)" in flat(app)


async def test_first_run_empty_account(db_url: str, clock: FixedClock) -> None:
    app = make_app(make_settings(db_url), clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.screen.query_one("#account-name", Input).focus()
        await pilot.press(*"Acme IT", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionList)
        assert "Acme IT · alice (admin)" in flat(app) and "No sessions yet" in flat(app)


async def test_unknown_user_in_a_populated_database_exits_with_code_2(
    db_url: str, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    services = await demo_services(db_url, clock)
    await services.close()
    app = make_app(make_settings(db_url, user="nobody"), clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
    assert app.return_code == 2
    printed = " ".join(capsys.readouterr().err.split())
    assert "flowpilot: User 'nobody' is not a member of any account in this database" in printed


async def test_keymap_from_settings_remaps_a_binding(db_url: str, clock: FixedClock) -> None:
    services = await demo_services(db_url, clock, keymap={"app.help": "f12"})
    try:
        app = make_app(services.settings, services)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("f1")
            await settle(pilot)
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press("f12")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            assert "f12 Help / keys app.help" in flat(app)
    finally:
        await services.close()


async def test_help_lists_keys_with_binding_ids(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        text = flat(app)
        assert "enter Send chat.send" in text
        assert "ctrl+j, alt+enter Newline chat.newline" in text
        assert "t Take over queue.take" in text and "] Load more tickets.more" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SessionList)


def test_help_lists_every_scope_of_the_key_registry() -> None:
    from flowpilot_tui import keymap
    from flowpilot_tui.screens.help import COLUMNS

    shown = [scope for column in COLUMNS for scope in column]
    assert sorted(shown) == sorted({k.scope for k in keymap.KEYS} - {"help"})  # each once; help is the screen itself


async def test_theme_choice_persists_across_runs(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        app.theme = "ansi-light"
        await settle(pilot)
    assert ui_state.load()["theme"] == "ansi-light"
    again = make_app(demo.settings, demo)
    async with again.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert again.theme == "ansi-light"


async def test_palette_runs_a_screen_action(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"new session")
        await settle(pilot)
        assert "Session list: New session" in flat(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, NewSession)


def test_the_key_registry_is_the_only_place_a_binding_is_written() -> None:
    """Help, the palette and keymap validation list the registry: a hand-written Binding elsewhere would drift."""
    import ast
    from pathlib import Path

    import flowpilot_tui

    root = Path(flowpilot_tui.__file__).parent
    writers = [
        f"{path.relative_to(root)}:{node.lineno}"
        for path in root.rglob("*.py")
        if path.name != "keymap.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Binding"
    ]
    assert writers == []


@pytest.mark.parametrize(
    ("scope", "module", "cls"),
    [
        ("preview", "flowpilot_tui.widgets.preview_pane", "PreviewPane"),
        ("confirm_post", "flowpilot_tui.screens.confirm_post", "ConfirmPost"),
        ("discard_draft", "flowpilot_tui.screens.discard_draft", "DiscardDraft"),
        ("script", "flowpilot_tui.screens.script_viewer", "ScriptViewer"),
        ("template", "flowpilot_tui.screens.template_builder", "TemplateBuilder"),
        ("redactions", "flowpilot_tui.screens.redactions", "RedactionsScreen"),
        ("help", "flowpilot_tui.screens.help", "HelpScreen"),
    ],
)
def test_each_scope_is_bound_where_it_acts(scope: str, module: str, cls: str) -> None:
    """Every registry entry of a scope is a live binding of the class that acts on it (remapping reaches it)."""
    import importlib

    from flowpilot_tui import keymap

    owner = getattr(importlib.import_module(module), cls)
    real = {(b.id, b.key, b.action) for b in owner.BINDINGS}
    assert real == {(k.id, k.keys, k.action) for k in keymap.of_scope(scope)}
    for key in keymap.of_scope(scope):
        assert callable(getattr(owner, f"action_{key.action.split('(')[0]}", None)), key.id


async def test_columns_follow_a_terminal_resize(demo) -> None:
    """120→80 keeps Owner and Updated on screen (the title gives way); 80→120 shows the whole title again."""
    title = "Outlook keeps prompting for password after M365 migration"
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert title in flat(app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        text = flat(app)
        assert "Owner Updated" in text and "alice" in text and "Dana Ortiz" in text
        assert title not in text  # clipped to fit
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        assert f"#48213 {title} active alice" in flat(app)


async def test_back_from_a_workspace_the_cursor_stays_on_that_session(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(SessionTable)
        first = table.selected_id
        await pilot.press("down", "down")
        chosen = table.selected_id
        assert chosen != first
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, Workspace) and app.screen.session_id == chosen
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SessionList)
        assert table.selected_id == chosen  # Enter opens the same session again, not row 1
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, Workspace) and app.screen.session_id == chosen


async def test_a_session_created_under_a_search_is_shown_back_on_the_list(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"printer", "enter")
        await settle(pilot)
        assert rows(app) == 1
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press(*"VPN drops every hour", "enter")
        await settle(pilot)
        assert isinstance(app.screen, Workspace)
        await pilot.press("escape")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionList)
        assert screen.query_one("#search", Input).value == ""  # the search that would hide it is cleared
        assert rows(app) == 5 and "VPN drops every hour" in flat(app)
        table = screen.query_one(SessionTable)
        assert table.get_row_at(table.cursor_row)[1].plain == "VPN drops every hour"


async def test_list_keys_are_not_shown_under_a_dialog(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "Status filter" in flat(app)  # the list's footer
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, NewSession)
        assert "Status filter" not in flat(app) and "Next page" not in flat(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SessionList) and "Status filter" in flat(app)


@pytest.mark.parametrize("query, title", [("quit", "Quit"), ("theme", "Theme")])
async def test_palette_lists_quit_and_theme_once(demo, query: str, title: str) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*query)
        await settle(pilot)
        from textual.command import CommandList

        hits = [str(option.prompt) for option in app.screen.query_one(CommandList).options]
        assert sum(title.lower() in hit.lower() for hit in hits) == 1, hits
