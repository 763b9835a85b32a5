"""Chat input and fact editor under terminal-style bursts on a slowed loop: the exact text is stored."""

from __future__ import annotations

from textual import events
from tui_helpers import make_settings, settle, wait_until
from typing_harness import burst, key_events, slowed_loop

from flowpilot_tui.app import make_app
from flowpilot_tui.screens.workspace import Workspace
from flowpilot_tui.services.container import Services
from flowpilot_tui.widgets.chat_pane import ChatPane
from flowpilot_tui.widgets.fact_editor import FactEditor


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
