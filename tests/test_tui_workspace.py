"""Workspace behaviour through the keyboard, checked on screen and in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from support import FixedClock
from textual.widgets import Input, Tabs
from tui_helpers import demo_services, flat, flat_in, open_session, screen_lines, screen_segments, settle, wait_until

from flowpilot_tui.app import make_app
from flowpilot_tui.screens.workspace import Workspace
from flowpilot_tui.services.models import (
    AISession,
    ChatMessage,
    Script,
    ScriptTemplate,
    SessionFact,
    SessionSuggestedFix,
)
from flowpilot_tui.widgets.chat_input import ChatInput
from flowpilot_tui.widgets.chat_log import ChatLog
from flowpilot_tui.widgets.chat_pane import ChatPane
from flowpilot_tui.widgets.confirm_dialog import ConfirmDialog
from flowpilot_tui.widgets.fact_editor import FactEditor
from flowpilot_tui.widgets.facts_pane import FactsPane

OUTLOOK = "Outlook keeps"
NASTY = "[bold]loud[/bold] [link=http://x]click[/link] \x1b]52;c;AAAA\x07 end"


@pytest.fixture
async def demo(db_url: str, clock: FixedClock):  # type: ignore[no-untyped-def]
    services = await demo_services(db_url, clock)
    yield services
    await services.close()


async def outlook_id(services) -> str:  # type: ignore[no-untyped-def]
    page = await services.sessions.list_sessions(search=OUTLOOK)
    return page.items[0].id


async def scalar(services, query):  # type: ignore[no-untyped-def]
    async with services.store.read() as db:
        return await db.scalar(query)


async def test_open_session_shows_chat_facts_fix_and_preview(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        assert isinstance(app.screen, Workspace)
        assert "#48213 Outlook keeps prompting for password after M365 migration" in flat_in(app, "#ws-header")
        assert "Symptoms (1)" in flat_in(app, "#pane-facts") and "Confirmed (2)" in flat_in(app, "#pane-facts")
        assert "Recreate the Outlook profile" in flat_in(app, "#fix-body")
        assert "o one-off · t draft template · b build template · ctrl+x dismiss" in flat_in(app, "#fix-keys")
        assert "User at Contoso (jdoe) gets a password prompt" in flat_in(app, "#pane-chat")
        assert "RESOLVE" in flat_in(app, "#pane-preview") and "ConnectWise ticket #48213" in flat_in(
            app, "#pane-preview"
        )
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, Workspace)


async def test_add_edit_and_delete_a_fact(demo) -> None:
    sid = await outlook_id(demo)
    before = (await demo.sessions.get(sid)).summary.state_version
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press("f3", "a")
        await settle(pilot)
        assert isinstance(app.screen, FactEditor)
        app.screen.query_one("#kind").value = "tried"
        await settle(pilot)
        await pilot.press(*"Deleted the cached credentials")
        app.screen.query_one("#outcome", Input).focus()
        await pilot.press(*"Prompt came back", "enter")
        await settle(pilot)
        fact = await scalar(demo, select(SessionFact).where(SessionFact.text == "Deleted the cached credentials"))
        assert fact is not None and fact.kind == "tried" and fact.outcome == "Prompt came back"
        facts = flat_in(app, "#pane-facts")  # the new fact is highlighted, so scrolled into view
        assert "Tried (outcome) (2)" in facts and "Deleted the cached credentials → Prompt came back" in facts
        assert (await demo.sessions.get(sid)).summary.state_version == before + 1

        pane = app.screen.query_one(FactsPane)
        pane.highlighted = pane.get_option_index(str(fact.id))
        await pilot.press("e")
        await settle(pilot)
        editor_text = app.screen.query_one("#text", Input)
        assert editor_text.value == "Deleted the cached credentials"
        editor_text.value = "Deleted both cached Exchange credentials"
        await pilot.press("enter")
        await settle(pilot)
        async with demo.store.read() as db:
            edited = await db.get(SessionFact, fact.id)
        assert edited is not None and edited.text == "Deleted both cached Exchange credentials"
        assert "Deleted both cached Exchange credentials" in flat_in(app, "#pane-facts")

        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog) and app.screen.focused.id == "cancel"
        await pilot.press("y")
        await settle(pilot)
        assert await scalar(demo, select(SessionFact).where(SessionFact.id == fact.id)) is None
        assert "Deleted both cached" not in flat_in(app, "#pane-facts") and "Fact deleted" in flat(app)


async def test_decision_keys_call_the_services(demo) -> None:
    sid = await outlook_id(demo)
    active = (await demo.sessions.get(sid)).active_fix
    assert active is not None
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press("f4", "o")
        await settle(pilot)
        fix = await scalar(demo, select(SessionSuggestedFix).where(SessionSuggestedFix.id == active.id))
        assert fix.user_decision == "one_off"
        script = await scalar(demo, select(Script).where(Script.fix_id == active.id))
        assert script is not None and script.shell == "powershell"
        assert type(app.screen).__name__ == "ScriptViewer"
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("f4", "t")
        await settle(pilot)
        fix = await scalar(demo, select(SessionSuggestedFix).where(SessionSuggestedFix.id == active.id))
        assert fix.user_decision == "draft_template"
        assert await scalar(demo, select(func.count()).select_from(ScriptTemplate)) == 1

        await pilot.press("f4", "x")  # a plain letter must not dismiss
        await settle(pilot)
        assert (await demo.sessions.get(sid)).active_fix is not None
        await pilot.press("ctrl+x")
        await settle(pilot)
        fix = await scalar(demo, select(SessionSuggestedFix).where(SessionSuggestedFix.id == active.id))
        assert fix.user_decision == "dismissed" and fix.superseded_at is not None
        assert "No active suggestion." in flat_in(app, "#pane-fix") and "h history (3 earlier)" in flat_in(
            app, "#pane-fix"
        )
        await pilot.press("h")
        await settle(pilot)
        text = flat(app)
        assert "superseded" in text and "Decision: dismissed" in text and "Decision: one-off script" in text


async def test_build_template_opens_the_template_builder(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press("f4", "b")
        await settle(pilot)
        assert type(app.screen).__name__ == "TemplateBuilder"
        assert await scalar(demo, select(func.count()).select_from(ScriptTemplate)) == 1


async def test_deciding_a_fix_superseded_elsewhere_reports_the_conflict(demo) -> None:
    sid = await outlook_id(demo)
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await app.screen.live.close()  # this window has not heard of the other one's change yet (live updates off)
        await demo.sessions.propose_fix(sid, "Repair Office", steps=["Run Quick Repair"])  # another window
        await pilot.press("f4", "ctrl+x")
        await settle(pilot)
        assert "This fix is already superseded by a newer suggestion" in flat(app)
        assert "Repair Office" in flat_in(app, "#pane-fix")  # the card re-read the session
        assert isinstance(app.screen, Workspace)


async def test_untrusted_text_renders_literally_without_control_characters(demo) -> None:
    sid = await outlook_id(demo)
    await demo.sessions.add_fact(sid, "symptom", NASTY)
    await demo.sessions.append_message(sid, "assistant", NASTY)
    await demo.sessions.propose_fix(sid, NASTY, rationale=NASTY, steps=[NASTY])
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        text = flat(app)
        assert "[bold]loud[/bold] [link=http://x]click[/link]" in text
        assert text.count("[link=http://x]") >= 3  # chat, fact and fix card
        for line in screen_lines(app):
            assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in line), repr(line)
        assert not any(seg.style and seg.style.link for seg in screen_segments(app))
        assert "52;c;AAAA" not in text


async def test_chat_send_offline_stores_the_message_and_slash_commands_record_facts(demo) -> None:
    sid = await outlook_id(demo)
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press(*"Called the user", "ctrl+j", *"second line", "enter")
        await settle(pilot)
        last = await scalar(
            demo, select(ChatMessage).where(ChatMessage.session_id == sid).order_by(ChatMessage.id.desc())
        )
        assert last.role == "user" and last.content == "Called the user\nsecond line"
        assert app.screen.query_one(ChatInput).text == ""
        await pilot.press(*"/hyp")
        await settle(pilot)
        assert "/hypothesis" in flat_in(app, "#slash-hint")  # the hint lists matching commands
        await pilot.press("tab", *"Token cache corrupt", "enter")
        await settle(pilot)
        fact = await scalar(demo, select(SessionFact).where(SessionFact.text == "Token cache corrupt"))
        assert fact is not None and fact.kind == "hypothesis"
        assert "Hypotheses (2)" in flat_in(app, "#pane-facts") and "• Token cache corrupt" in flat_in(
            app, "#pane-facts"
        )


async def test_copy_a_chat_message_uses_osc52_and_says_so(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press("ctrl+y")
        await settle(pilot)
        await pilot.press("enter")  # newest first: the assistant's question
        await settle(pilot)
        assert app.clipboard.startswith("Repeated prompts after a migration") and app.clipboard.endswith("OWA works?")
        assert f"Copied {len(app.clipboard)} characters to the clipboard (OSC 52)" in flat(app)


async def test_viewer_cannot_write(db_url: str, clock: FixedClock) -> None:
    services = await demo_services(db_url, clock, user="demo.viewer")
    try:
        sid = await outlook_id(services)
        facts_before = len((await services.sessions.get(sid)).facts)
        app = make_app(services.settings, services)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await open_session(pilot, OUTLOOK)
            assert "Read-only: your role (viewer) can read this session but not change it" in flat(app)
            assert "Decisions disabled: your role (viewer) cannot decide fixes" in flat_in(app, "#fix-keys")
            assert app.screen.query_one(ChatInput).read_only
            await pilot.press("f3", "a")
            await settle(pilot)
            assert isinstance(app.screen, Workspace)
            await pilot.press("f4", "o", "ctrl+x", "f7")
            await settle(pilot)
            detail = await services.sessions.get(sid)
            assert detail.active_fix is not None and detail.active_fix.user_decision is None
            assert len(detail.facts) == facts_before and detail.summary.status == "active"
    finally:
        await services.close()


async def test_narrow_terminal_switches_panes_as_tabs(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        ws = app.screen
        assert ws.query_one(Tabs).display and ws.has_class("-narrow")
        assert ws.query_one("#pane-chat").display and not ws.query_one(FactsPane).region.width
        await pilot.press("f3")
        await settle(pilot)
        assert ws.query_one(FactsPane).region.width > 70 and not ws.query_one("#pane-chat").region.width
        assert "Symptoms (1)" in flat(app)
        await pilot.press("f5")
        await settle(pilot)
        assert "RESOLVE" in flat(app) and "Symptoms (1)" not in flat(app)
    wide = make_app(demo.settings, demo)
    async with wide.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        ws = wide.screen
        assert not [tabs for tabs in ws.query(Tabs) if tabs.display]  # wide: side by side, no tab bar
        assert ws.query_one(FactsPane).region.width and ws.query_one("#pane-chat").region.width
        await pilot.resize_terminal(80, 24)  # the tab bar appears once the terminal turns narrow
        await wait_until(pilot, lambda: bool(ws.query(Tabs)) and ws.query_one(Tabs).display, "tab bar")
        await pilot.press("f3")
        await wait_until(pilot, lambda: ws.query_one(FactsPane).region.width > 70, "facts pane as a tab")
        assert ws.query_one(Tabs).active == "tab-facts" and not ws.query_one("#pane-chat").region.width


async def test_long_history_is_windowed_and_loads_earlier_on_demand(demo) -> None:
    sid = await outlook_id(demo)
    for n in range(120):
        await demo.sessions.append_message(sid, "user" if n % 2 else "assistant", f"message number {n}")
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        log = app.screen.query_one(ChatLog)
        assert len(log.query(".history")) == 1  # one renderable for the whole window, not a widget per message
        assert len(log.entries) == 50 and log.entries[-1] == ("user", "message number 119")
        assert log.query_one("#earlier").display
        await pilot.press("f2", "ctrl+l")
        await settle(pilot)
        assert len(log.query(".history")) == 2 and len(log.entries) == 122
        assert log.entries[0][1].startswith("User at Contoso") and not log.query_one("#earlier").display


async def test_pause_resume_and_request_escalation(demo) -> None:
    sid = await outlook_id(demo)
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press("f7")
        await settle(pilot)
        assert (await demo.sessions.get(sid)).summary.status == "paused" and "paused" in flat(app)
        await pilot.press("f7")
        await settle(pilot)
        assert (await demo.sessions.get(sid)).summary.status == "active"
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("tab")  # from Cancel into... the reason field is first in the focus chain
        app.screen.query_one("#reason", Input).focus()
        await pilot.press(*"needs tenant admin", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)  # Enter in the reason field does not confirm
        app.screen.query_one("#confirm").press()
        await settle(pilot)
        row = await scalar(demo, select(AISession).where(AISession.id == sid))
        assert row.status == "requesting_escalation" and row.escalation_reason == "needs tenant admin"


async def test_quitting_right_after_a_post_exits_and_keeps_the_result(db_url: str, clock: FixedClock) -> None:
    """The real app owns its services: ctrl+q while the post's reload is still running must end the app (workers
    are cancelled and awaited before the database closes) and the resolve must be on record."""
    from tui_helpers import make_settings, wait_until

    from flowpilot_tui.screens.confirm_post import ConfirmPost

    seeded = await demo_services(db_url, clock)
    vpn = (await seeded.sessions.list_sessions(search="VPN connects")).items[0].id
    await seeded.close()
    app = make_app(make_settings(db_url), clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, "VPN connects")
        ws = app.screen
        assert isinstance(ws, Workspace)
        await pilot.press("f5", "f9")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmPost), "confirm modal")
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: ws.current.final or not ws.current.loaded, "post done, reload started")
        await pilot.press("ctrl+q")  # no settle: the reload worker may still be inside the database
    assert app.return_code in (0, None)
    from flowpilot_tui.services.container import open_services

    services = await open_services(make_settings(db_url), clock=clock)
    try:
        assert (await services.sessions.get(vpn)).summary.status == "resolved"
    finally:
        await services.close()


# ---- context: footer keys and the post header (issue 12, "also seen") ---------------------------------------------


async def test_post_key_is_not_offered_once_the_session_is_resolved(demo) -> None:
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(220, 40)) as pilot:  # wide enough for every footer key
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press("f5")
        await settle(pilot)
        assert "Confirm & post" in flat_in(app, "AppFooter")  # active: F9 is offered
        await pilot.press("escape")
        await settle(pilot)
        await open_session(pilot, "Second-floor")  # the demo's resolved session
        assert isinstance(app.screen, Workspace) and app.screen.detail is not None
        assert app.screen.detail.summary.status == "resolved"
        await pilot.press("f5")
        await settle(pilot)
        assert "Confirm & post" not in flat_in(app, "AppFooter")


async def test_a_local_post_does_not_say_it_waits_for_connectwise() -> None:
    from textual.app import App, ComposeResult

    from flowpilot_tui.services.drafts import KindText
    from flowpilot_tui.widgets.preview_pane import PreviewPane, PreviewView

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield PreviewPane(can_write=True, cursor_blink=False)

    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        pane = app.query_one(PreviewPane)
        text = KindText(text="Resolved.", loaded=True)
        pane.show(PreviewView("resolve", text, state_version=3, status="active", ticket_id=None, posting=True))
        await pilot.pause()
        shown = flat(app)
        assert "locked" in shown and "ConnectWise" not in shown
        pane.show(PreviewView("resolve", text, state_version=3, status="active", ticket_id=48213, posting=True))
        await pilot.pause()
        assert "the editor is locked until ConnectWise answers" in flat(app)


async def test_wrapped_fact_text_stays_visible_when_the_facts_pane_scrolls(demo) -> None:
    """Enough facts for a scrollbar: every wrapped fact still shows its last line (at the top and scrolled)."""
    sid = await outlook_id(demo)
    for n in range(12):
        await demo.sessions.add_fact(
            sid, "confirmed", f"Fact {n:02d} the mailbox database copy on EXCH02 is healthy and mounted end{n:02d}"
        )
    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press("f3")
        await settle(pilot)
        assert "laptop LT-0457, user jdoe@contoso.com" in flat_in(app, "#pane-facts")
        await pilot.press(*["down"] * 30)
        await settle(pilot)
        shown = flat_in(app, "#pane-facts")
        import re

        starts = re.findall(r"Fact (\d\d) the mailbox", shown)
        assert len(starts) >= 3, shown  # scrolled into the long facts
        for n in starts[:-1]:  # the last one may be cut by the pane's bottom edge
            assert f"and mounted end{n}" in shown, (n, shown)


# ---- opening reads the session once (issue 12, item 3) -------------------------------------------------------------


async def test_opening_a_workspace_reads_the_session_once_for_every_pane(demo) -> None:
    """Header, facts, fix card and preview are filled from one read of the session (there were three: the panes'
    load, the preview's load and the ticket-status check each read it); the history is read on its own."""
    sid = await outlook_id(demo)
    reads: list[str] = []
    get = demo.sessions.get

    async def counted(session_id: str):  # type: ignore[no-untyped-def]
        reads.append(session_id)
        return await get(session_id)

    app = make_app(demo.settings, demo)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        demo.sessions.get = counted
        try:
            await app.push_screen(Workspace(demo, sid))
            await settle(pilot)
        finally:
            del demo.sessions.get
        ws = app.screen
        assert isinstance(ws, Workspace) and ws.detail is not None and ws.current.loaded
        facts = ws.query_one(FactsPane)
        assert facts.facts and "Symptoms" in flat_in(app, "#pane-facts")
        assert ws.query_one(ChatLog).entries  # the history is shown
        assert reads.count(sid) == 1, reads


async def test_a_click_on_a_footer_key_presses_it_and_the_keys_follow_the_pane(demo) -> None:
    """The footer is one line of text (not a widget per key): a click on a key still runs it, a click on a key the
    pane does not offer does nothing, and moving to another pane shows that pane's keys."""
    from flowpilot_tui.widgets.app_footer import AppFooter

    app = make_app(demo.settings, demo)
    async with app.run_test(size=(220, 40)) as pilot:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        ws = app.screen
        assert isinstance(ws, Workspace) and ws.focused is ws.query_one(ChatPane).input
        footer = ws.query_one(AppFooter)
        assert "Add fact" not in flat_in(app, "AppFooter")  # the chat input's keys, not the facts pane's
        line = footer.text
        x = line.index(" f3 Facts") + 2  # on the key itself
        await pilot.click(AppFooter, offset=(x, 0))
        await settle(pilot)
        assert ws.focused is ws.query_one(FactsPane)  # the click pressed F3
        assert "Add fact" in flat_in(app, "AppFooter")  # and the footer now offers the facts pane's keys
