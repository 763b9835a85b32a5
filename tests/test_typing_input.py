"""Chat input and fact editor under terminal-style bursts on a slowed loop: the exact text is stored."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from textual import events
from tui_helpers import make_settings, settle, wait_until
from typing_harness import burst, key_events, slowed_loop, until_drained

from flowpilot_tui.app import make_app
from flowpilot_tui.screens.confirm_post import ConfirmPost
from flowpilot_tui.screens.workspace import Workspace
from flowpilot_tui.services.container import Services
from flowpilot_tui.widgets.chat_pane import ChatPane
from flowpilot_tui.widgets.fact_editor import FactEditor
from flowpilot_tui.widgets.preview_pane import PreviewPane


async def _user_messages(services: Services, sid: str) -> list[str]:
    return [m.content for m in await services.sessions.list_messages(sid, limit=50) if m.role == "user"]


async def test_burst_then_enter_sends_the_whole_line_and_key_ahead_starts_the_next(store, engineer, clock, db_url):
    services = Services(make_settings(db_url), store, engineer, clock)
    session = await services.sessions.create("Printer offline")
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        ws = app.screen
        assert isinstance(ws, Workspace)
        chat = ws.query_one(ChatPane)
        with slowed_loop():
            burst(app, "repro 1: the computer restarts\rsecond")  # Enter mid-burst, then key-ahead
            await wait_until(pilot, lambda: chat.input.text == "second", "key-ahead in the input")
            await settle(pilot)
        assert await _user_messages(services, session.id) == ["repro 1: the computer restarts"]
        assert chat.input.text == "second"


async def test_fact_edit_appends_at_the_end_instead_of_replacing(store, engineer, clock, db_url):
    services = Services(make_settings(db_url), store, engineer, clock)
    session = await services.sessions.create("Outlook prompts")
    await services.sessions.add_fact(session.id, "symptom", "prompts for password")
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f3")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FactEditor)
        with slowed_loop():
            burst(app, [events.Key("end", None), *key_events(" more\r")])
            await wait_until(pilot, lambda: not isinstance(app.screen, FactEditor), "editor closed")
            await settle(pilot)
        detail = await services.sessions.get(session.id)
        assert [f.text for f in detail.facts] == ["prompts for password more"]


# ---- the preview editor ---------------------------------------------------------------------------------------


def apply_keys(text: str, keys: list[events.Key]) -> str:
    """What a TextArea holds after `keys` on its first line (not wrapped), cursor at the start: the expected text."""
    lines = text.split("\n")
    line, col = lines[0], 0
    for key in keys:
        if key.key == "end":
            col = len(line)
        elif key.key == "backspace":
            line, col = line[: col - 1] + line[col:] if col else line, max(col - 1, 0)
        elif key.character and key.is_printable:
            line, col = line[:col] + key.character + line[col:], col + 1
    return "\n".join([line, *lines[1:]])


def edit_keys() -> list[events.Key]:
    """End, 13× Backspace, then typing in runs with Backspace runs between them (issue 12 repro and worse)."""
    return [
        events.Key("end", None),
        *key_events("\x7f" * 13 + "Not tested\x7f\x7f\x7fted on 20 pages" + "\x7f" * 5 + "pages, all fine."),
    ]  # fresh events: a Message is processed once


WIDE_PREVIEW = (99, 36)  # narrow layout: the preview takes the whole width, so End is the end of the first line


async def open_preview(pilot: Any, app: Any, services: Services, sid: str) -> PreviewPane:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    ws = app.screen
    assert isinstance(ws, Workspace) and ws.session_id == sid
    ws.autosave_delay = 0.001  # every edit saves at once: DraftSaved / re-renders arrive while keys are still queued
    await pilot.press("f5")
    pane = ws.query_one(PreviewPane)
    await wait_until(pilot, lambda: pane.editable and bool(pane.editor_text), "preview loaded")
    await settle(pilot)
    assert app.focused is pane.text_area
    return pane


async def until_equal(pilot: Any, get: Callable[[], str], expected: str, what: str) -> None:
    await until_drained(pilot, lambda: get() == expected, what)
    await settle(pilot)
    assert get() == expected


async def _session_with_facts(services: Services) -> str:
    session = await services.sessions.create("Printer offline for the second floor")
    await services.sessions.add_fact(session.id, "symptom", "all users see the printer offline")
    await services.sessions.add_fact(session.id, "tried", "restarted the print spooler", outcome="no change")
    return session.id


@contextlib.asynccontextmanager
async def typing_into_preview(store: Any, engineer: Any, clock: Any, db_url: str) -> AsyncIterator[tuple[Any, ...]]:
    """(services, sid, app, pilot, pane): the workspace of a session with facts, its preview editor focused."""
    services = Services(make_settings(db_url), store, engineer, clock)
    sid = await _session_with_facts(services)
    app = make_app(services.settings, services)
    async with app.run_test(size=WIDE_PREVIEW) as pilot:
        yield services, sid, app, pilot, await open_preview(pilot, app, services, sid)


async def test_preview_edits_apply_in_order_under_bursts_and_autosave(store, engineer, clock, db_url):
    async with typing_into_preview(store, engineer, clock, db_url) as (services, sid, app, pilot, pane):
        before = pane.editor_text
        assert len(before.split("\n")[0]) + 20 < pane.text_area.content_size.width  # the edited line never wraps
        keys = edit_keys()
        expected = apply_keys(before, keys)
        with slowed_loop():
            burst(app, keys[:20])  # the keys queue up behind a busy loop: all of them arrive before any is handled
            burst(app, keys[20:])
            await until_equal(pilot, lambda: pane.editor_text, expected, "edited text")
        assert (await services.sessions.get_draft(sid, "resolve"))[0] == expected  # type: ignore[index]


async def test_confirm_right_after_typing_posts_every_key(store, engineer, clock, db_url):
    async with typing_into_preview(store, engineer, clock, db_url) as (services, sid, app, pilot, pane):
        keys = edit_keys()
        expected = apply_keys(pane.editor_text, keys)
        with slowed_loop():
            burst(app, [*keys, events.Key("f9", None)])  # key-ahead: F9 (a priority binding) right behind the text
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmPost), "confirm modal")
            modal = app.screen
            assert isinstance(modal, ConfirmPost)
            assert modal.text == expected
            await pilot.press("ctrl+y")
            await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmPost), "modal closed")
            await settle(pilot)
        detail = await services.sessions.get(sid)
        assert detail.summary.status == "resolved"
        assert detail.resolution_note_markdown == expected.rstrip()  # stored as posted (trailing newline trimmed)


# ---- chat: Backspace in a burst, Esc with unsent text ------------------------------------------------------------


async def _workspace(pilot: Any, app: Any) -> Workspace:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, Workspace)
    return app.screen


async def test_chat_backspace_runs_apply_in_order_within_a_burst(store, engineer, clock, db_url):
    services = Services(make_settings(db_url), store, engineer, clock)
    await services.sessions.create("Printer offline")
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        chat = (await _workspace(pilot, app)).query_one(ChatPane)
        with slowed_loop():
            burst(app, "the spooler\x7f\x7f\x7f\x7f\x7f\x7f\x7fprinter restartd\x7fed")
            await until_drained(pilot, lambda: chat.input.text == "the printer restarted", "chat text")


async def test_esc_with_unsent_chat_text_asks_and_keeps_it(store, engineer, clock, db_url):
    from flowpilot_tui.screens.session_list import SessionList
    from flowpilot_tui.widgets.confirm_dialog import ConfirmDialog

    services = Services(make_settings(db_url), store, engineer, clock)
    await services.sessions.create("Printer offline")
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        ws = await _workspace(pilot, app)
        chat = ws.query_one(ChatPane)
        burst(app, [*key_events("half a thought"), events.Key("escape", None)])
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "leave question")
        await pilot.press("escape")  # Cancel: stay
        await wait_until(pilot, lambda: app.screen is ws, "back in the workspace")
        assert chat.input.text == "half a thought" and app.focused is chat.input
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "leave question")
        await pilot.press("y")  # Discard & leave
        await wait_until(pilot, lambda: isinstance(app.screen, SessionList), "session list")
        assert await _user_messages(services, (await services.sessions.list_sessions()).items[0].id) == []


@pytest.mark.parametrize("ending", ["ctrl+q", "terminal closed"])
async def test_an_unsent_chat_line_comes_back_after_quit_and_a_discarded_one_does_not(
    store, engineer, clock, db_url, ending
):
    """Typed, not sent, then the app ends (quit, or SSH dropped): the line is in the input when the session is opened
    again (also by the next app). Discarded on Esc, it is gone; the state file is the user's alone (0600)."""
    import stat

    from flowpilot_tui import ui_state
    from flowpilot_tui.messages import TerminalClosed
    from flowpilot_tui.screens.session_list import SessionList

    services = Services(make_settings(db_url), store, engineer, clock)
    await services.sessions.create("Printer offline")
    typed = "the spooler restarts, then «HP M404» goes offline again"
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await _workspace(pilot, app)
        with slowed_loop():
            burst(app, key_events(typed))
            if ending == "ctrl+q":
                burst(app, [events.Key("ctrl+q", None)])
            else:
                app.post_message(TerminalClosed())
            await wait_until(pilot, lambda: not app.is_running, "app exited")
    assert stat.S_IMODE(ui_state.state_path().stat().st_mode) == 0o600
    again = make_app(services.settings, services)
    async with again.run_test(size=(120, 36)) as pilot:
        ws = await _workspace(pilot, again)
        chat = ws.query_one(ChatPane)
        assert chat.input.text == typed and again.focused is chat.input
        await pilot.press("escape")
        await wait_until(pilot, lambda: again.screen is not ws, "leave question")
        await pilot.press("y")  # Discard & leave
        await wait_until(pilot, lambda: isinstance(again.screen, SessionList), "session list")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(again.screen, Workspace), "the session again")
        await settle(pilot)
        assert again.screen.query_one(ChatPane).input.text == ""


async def test_esc_with_an_empty_chat_input_leaves_at_once(store, engineer, clock, db_url):
    from flowpilot_tui.screens.session_list import SessionList

    services = Services(make_settings(db_url), store, engineer, clock)
    await services.sessions.create("Printer offline")
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await _workspace(pilot, app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionList), "session list")


async def test_f6_lists_redactions_from_any_pane(store, engineer, clock, db_url):
    from flowpilot_tui.screens.redactions import RedactionsScreen

    services = Services(make_settings(db_url), store, engineer, clock)
    session = await services.sessions.create("VPN admin cannot log in")
    await services.sessions.add_fact(session.id, "environment", "VPN admin login: password: Hunter2-Secret!")
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        ws = await _workspace(pilot, app)
        for pane in ("f2", "f3", "f4"):  # chat input, facts list, fix card: the preview never has focus
            await pilot.press(pane)
            await pilot.press("f6")
            await wait_until(pilot, lambda: isinstance(app.screen, RedactionsScreen), f"redactions after {pane}")
            assert app.screen.items and app.screen.items[0].original.endswith("Hunter2-Secret!")  # type: ignore[attr-defined]
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is ws, "back in the workspace")


@pytest.mark.parametrize("ending", ["ctrl+q", "terminal closed"])
async def test_quit_right_after_typing_saves_every_key_as_the_draft(store, engineer, clock, db_url, ending):
    """ctrl+q (a priority binding) right behind the text, or the terminal going away (SSH dropped: the driver reads
    end of input and posts TerminalClosed behind the keys it read before)."""
    from flowpilot_tui.messages import TerminalClosed

    async with typing_into_preview(store, engineer, clock, db_url) as (services, sid, app, pilot, pane):
        app.screen.autosave_delay = 3600  # type: ignore[attr-defined]  # only the save on close can keep the text
        keys = edit_keys()
        expected = apply_keys(pane.editor_text, keys)
        with slowed_loop():
            if ending == "ctrl+q":
                burst(app, [*keys, events.Key("ctrl+q", None)])
            else:
                burst(app, keys)
                app.post_message(TerminalClosed())
            await wait_until(pilot, lambda: not app.is_running, "app exited")
    assert (await services.sessions.get_draft(sid, "resolve"))[0] == expected  # type: ignore[index]


async def test_a_preview_load_finishing_while_typing_keeps_the_typed_text(store, engineer, clock, db_url):
    async with typing_into_preview(store, engineer, clock, db_url) as (services, sid, app, pilot, pane):
        ws = app.screen
        assert isinstance(ws, Workspace)
        ws.autosave_delay = 3600  # the typed text is not saved yet when the load answers
        keys = edit_keys()
        expected = apply_keys(pane.editor_text, keys)
        with slowed_loop():
            burst(app, keys)
            ws.load_preview("resolve")  # e.g. a reload after a worker, racing the keys
            await until_equal(pilot, lambda: pane.editor_text, expected, "edited text")
        assert ws.current.text == expected and ws.current.is_draft


async def test_keys_typed_behind_a_pane_key_reach_the_pane_it_opens(store, engineer, clock, db_url):
    """F2 / F5 (priority bindings) move focus through a deferred callback: the keys of the same read must wait for it,
    else the first of them still went to the pane being left (End applied in the chat, the text in the preview)."""
    from flowpilot_tui.widgets.chat_pane import ChatPane

    async with typing_into_preview(store, engineer, clock, db_url) as (services, sid, app, pilot, pane):
        before, chat = pane.editor_text, app.screen.query_one(ChatPane).input
        with slowed_loop():
            burst(app, "<f2>printer<f5><end> (checked)<f2> is offline")
            await until_drained(pilot, lambda: chat.text == "printer is offline", "chat line typed around F5")
        lines = before.split("\n")
        assert chat.text == "printer is offline"
        assert pane.editor_text == "\n".join([lines[0] + " (checked)", *lines[1:]])
