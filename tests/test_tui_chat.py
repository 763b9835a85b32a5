"""The workspace chat driven through the assistant service: offline slash commands end to end, the Claude path
against the loopback fake (real SDK, client factory injected through `Services.anthropic_client_factory`), and a
snapshot of the chat with tool cards."""

from __future__ import annotations

import asyncio
from typing import Any

from fake_anthropic import FakeAnthropic, message, text_block, tool_use_block
from support import FixedClock, make_actor
from textual.pilot import Pilot
from tui_helpers import flat_in, make_settings, settle

from flowpilot_tui.app import make_app
from flowpilot_tui.screens.workspace import Workspace
from flowpilot_tui.services.container import Services
from flowpilot_tui.widgets.chat_pane import ChatPane
from flowpilot_tui.widgets.facts_pane import FactsPane

KEY_NAMES = {" ": "space", "/": "slash", "-": "minus", ">": "greater_than_sign", ".": "full_stop", ",": "comma"}


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*(KEY_NAMES.get(ch, ch) for ch in text))


async def open_first_session(pilot: Pilot[Any]) -> Workspace:
    await settle(pilot)
    await pilot.press("enter")  # the session list opens with the table focused on the newest session
    await settle(pilot)
    assert isinstance(pilot.app.screen, Workspace)
    return pilot.app.screen


def screen_text(app: Any) -> str:
    return " ".join(" ".join(strip.text for strip in app.screen._compositor.render_strips()).split())


def on_screen(app: Any, text: str) -> bool:
    """`text` appears on one screen line (panes sit side by side, so lines are not joined)."""
    return any(text in strip.text for strip in app.screen._compositor.render_strips())


def facts_shown(ws: Workspace) -> list[str]:
    pane = ws.query_one(FactsPane)
    return [
        str(pane.get_option_at_index(i).prompt)
        for i in range(pane.option_count)
        if pane.get_option_at_index(i).id and not str(pane.get_option_at_index(i).id).startswith("kind-")
    ]


async def test_offline_slash_commands_record_into_the_facts_pane_and_db(store, engineer, clock, db_url) -> None:
    services = Services(make_settings(db_url), store, engineer, clock)
    session = await services.sessions.create("VPN DNS failure")
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        ws = await open_first_session(pilot)
        chat = ws.query_one(ChatPane)
        assert "Assistant offline" in screen_text(app)
        await type_text(pilot, "/tri")
        await pilot.press("tab")  # completion from the assistant's slash_commands()
        assert chat.input.text == "/tried "
        await type_text(pilot, "Rebooted laptop -> no change")
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, "/fact VPN tunnel is up")
        await pilot.press("enter")
        await settle(pilot)
        assert chat.input.text == ""
        assert facts_shown(ws) == ["• VPN tunnel is up", "• Rebooted laptop\n  → no change"]
        assert on_screen(app, "Confirmed · F2 — VPN tunnel is up")  # the card in the chat

        await type_text(pilot, "/fatc typo")
        await pilot.press("enter")
        await settle(pilot)
        assert chat.input.text == "/fatc typo"  # not lost
        assert any("Unknown command /fatc" in n.message for n in app._notifications)

    detail = await services.sessions.get(session.id)
    assert [(f.kind, f.text, f.outcome) for f in detail.facts] == [
        ("tried", "Rebooted laptop", "no change"),
        ("confirmed", "VPN tunnel is up", None),
    ]
    assert detail.summary.state_version == session.state_version + 2
    assert [m.content for m in await services.sessions.list_messages(session.id)] == [
        "/tried Rebooted laptop -> no change",
        "/fact VPN tunnel is up",
    ]


def claude_reply() -> dict[str, Any]:
    return message(
        text_block("The tunnel is fine, so this looks like DNS not being pushed. Flush the cache and reconnect."),
        tool_use_block(
            "record_facts",
            {
                "facts": [
                    {"kind": "confirmed", "text": "VPN tunnel is up"},
                    {"kind": "tried", "text": "Rebooted laptop", "outcome": "no change"},
                ]
            },
            id="toolu_tui_facts",
        ),
        tool_use_block(
            "propose_fix",
            {
                "title": "Flush DNS and reconnect the VPN",
                "rationale": "Stale resolver cache",
                "steps": ["`ipconfig /flushdns`", "Reconnect the VPN"],
                "target_shell": "powershell",
            },
            id="toolu_tui_fix",
        ),
    )


def is_chat(body: dict[str, Any]) -> bool:
    return any(t.get("name") == "record_facts" for t in body.get("tools") or [])


def is_note(body: dict[str, Any]) -> bool:
    return (body.get("tool_choice") or {}).get("name") == "write_resolution_note"


NOTE = message(
    tool_use_block(
        "write_resolution_note",
        {
            "summary": "Internal hostnames did not resolve while connected to the VPN.",
            "root_cause": "The cause could not be determined.",
            "fix_applied": "None yet.",
            "verification": "Not verified yet.",
            "follow_up": "None.",
            "fact_ids": ["F1"],
        },
    )
)


def script_replies(fake: FakeAnthropic, **chat: Any) -> None:
    """The workspace's preview asks for a resolution note when it opens; the chat turn gets the tool reply."""
    fake.reply(NOTE, match=is_note)
    fake.reply(claude_reply(), match=is_chat, **chat)


def factory_for(fake: FakeAnthropic) -> Any:
    def factory(llm: Any) -> Any:
        from anthropic import AsyncAnthropic

        return AsyncAnthropic(api_key="test-key", base_url=fake.base_url, max_retries=0)

    return factory


async def test_claude_reply_streams_and_tool_cards_update_the_panes(
    store, engineer, clock, db_url, fake_anthropic
) -> None:
    services = Services(
        make_settings(db_url, llm={"provider": "anthropic"}),
        store,
        engineer,
        clock,
        anthropic_client_factory=factory_for(fake_anthropic),
    )
    session = await services.sessions.create("VPN DNS failure")
    await services.sessions.propose_fix(session.id, "Reinstall the VPN client")
    script_replies(fake_anthropic, hold_after=3)  # the chat reply stalls after its first text piece
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        ws = await open_first_session(pilot)
        assert "Assistant offline" not in screen_text(app)
        await type_text(pilot, "Tunnel is up, rebooted already")
        await pilot.press("enter")
        try:
            for _ in range(500):  # the partial reply is on screen while the stream is stalled
                await pilot.pause(0.01)
                if fake_anthropic.held.is_set() and on_screen(app, "The tunnel is fine"):
                    break
            assert on_screen(app, "The tunnel is fine") and ws.query_one(ChatPane).log_view.streaming
        finally:
            fake_anthropic.release()
        await settle(pilot)
        for card_line in (
            "Confirmed · F1 — VPN tunnel is up",
            "Tried · F2 — Rebooted laptop",
            "Suggested fix · Flush DNS and reconnect",
            "“Reinstall the VPN client”",
        ):
            assert card_line in flat_in(app, "#chat-log"), card_line  # a card line may wrap
        assert facts_shown(ws) == ["• VPN tunnel is up  [assistant]", "• Rebooted laptop\n  → no change  [assistant]"]
    detail = await services.sessions.get(session.id)
    assert detail.active_fix is not None and detail.active_fix.title == "Flush DNS and reconnect the VPN"


async def test_escape_cancels_a_reply_and_keeps_the_partial_text(
    store, engineer, clock, db_url, fake_anthropic
) -> None:
    services = Services(
        make_settings(db_url, llm={"provider": "anthropic"}),
        store,
        engineer,
        clock,
        anthropic_client_factory=factory_for(fake_anthropic),
    )
    session = await services.sessions.create("Slow")
    script_replies(fake_anthropic, hold_after=3)
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_first_session(pilot)
        await type_text(pilot, "Any idea")
        await pilot.press("enter")
        for _ in range(500):
            await pilot.pause(0.01)
            if fake_anthropic.held.is_set() and on_screen(app, "The tunnel is fine"):
                break
        await pilot.press("escape")
        await settle(pilot)
        assert "interrupted" in screen_text(app)
    msgs = await services.sessions.list_messages(session.id)
    assert [(m.role, m.interrupted) for m in msgs] == [("user", False), ("assistant", True)]
    assert msgs[1].content.startswith("The tunnel") and (await services.sessions.get(session.id)).facts == ()


# ---- snapshot -------------------------------------------------------------------------------------------------


async def _seed(db_url: str) -> None:
    from flowpilot_tui.services.sessions import SessionService
    from flowpilot_tui.services.store import Store

    clock = FixedClock()
    store = await Store.open(db_url)
    actor = await make_actor(store, "alice", "engineer", "Acme IT", clock)
    sessions = SessionService(store, actor, clock)
    s = await sessions.create("VPN connects but internal names do not resolve")
    await sessions.add_fact(s.id, "symptom", "Internal hostnames fail to resolve on VPN")
    await sessions.add_fact(s.id, "environment", "Windows 11 23H2, GlobalProtect 6.1")
    await sessions.propose_fix(s.id, "Reinstall the VPN client", steps=["Uninstall GlobalProtect", "Install 6.1.4"])
    await store.close()


def test_chat_with_tool_cards_snapshot(snap_compare, db_url, fake_anthropic) -> None:
    asyncio.run(_seed(db_url))
    script_replies(fake_anthropic)
    llm = {"provider": "anthropic", "api_key": "test-key", "base_url": fake_anthropic.base_url, "max_retries": 0}
    settings = make_settings(db_url, llm=llm)
    app = make_app(settings, clock=FixedClock(FixedClock().now.replace(hour=10)))

    async def send(pilot: Pilot[Any]) -> None:
        await open_first_session(pilot)
        await type_text(pilot, "Tunnel is up, rebooted already, no change")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=send)


async def test_fix_decisions_open_the_script_viewer_and_template_builder(store, engineer, clock, db_url) -> None:
    from flowpilot_tui.screens.script_viewer import ScriptViewer
    from flowpilot_tui.screens.template_builder import TemplateBuilder

    services = Services(make_settings(db_url), store, engineer, clock)
    session = await services.sessions.create("Printer offline")
    await services.sessions.add_fact(session.id, "environment", "Windows Server 2019 print server")
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_first_session(pilot)
        await type_text(pilot, "/fix Restart the spooler | Restart-Service Spooler")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f4", "o")  # fix pane, one-off script
        await settle(pilot)
        assert isinstance(app.screen, ScriptViewer) and app.screen.script.shell == "powershell"
        assert "Restart-Service Spooler" in app.screen.body
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f2")  # back to the chat input
        await type_text(pilot, "/fix Clear the queue on <Server> | Remove-Item C:\\spool\\* -Recurse")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f4", "b")  # build template
        await settle(pilot)
        assert isinstance(app.screen, TemplateBuilder)
        assert [p.name for p in app.screen.template.parameters] == ["Server"]
    templates = await services.scripts.list_templates()
    assert [(t.name, t.status) for t in templates] == [("Clear the queue on <Server>", "draft")]
    assert len(await services.scripts.list_scripts(session.id)) == 1


async def test_reopened_chat_shows_the_cards_its_messages_recorded(store, engineer, clock, db_url) -> None:
    """Cards are stored with the message, so history after a restart still shows what each turn recorded."""
    services = Services(make_settings(db_url), store, engineer, clock)
    session = await services.sessions.create("Printer offline")
    await services.assistant.send(session.id, "/tried Power-cycled the printer -> still offline")
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_first_session(pilot)
        assert on_screen(app, "Tried · F")  # only the card says this; the message itself reads "/tried ..."
        assert on_screen(app, " — ")  # title — detail
