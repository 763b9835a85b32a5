"""Opening a workspace: one read fills every pane, and a load the engineer starts meanwhile wins over it."""

from __future__ import annotations

from tui_helpers import hold_session_reads, make_settings, settle, wait_until

from flowpilot_tui.app import make_app
from flowpilot_tui.screens.session_list import SessionList
from flowpilot_tui.screens.workspace import Workspace
from flowpilot_tui.services.container import Services
from flowpilot_tui.widgets.preview_pane import PreviewPane


async def test_regenerate_pressed_while_the_workspace_opens_keeps_the_regenerated_text(
    store, engineer, clock, db_url
) -> None:
    """ctrl+g before the opening read has returned: the opening's text (here the saved draft) arrives later and
    must not replace the regenerated note on screen."""
    services = Services(make_settings(db_url), store, engineer, clock)
    session = await services.sessions.create("Printer offline on floor 2")
    await services.sessions.add_fact(session.id, "symptom", "The HP M404 shows offline on every laptop")
    version = (await services.sessions.get(session.id)).summary.state_version
    await services.sessions.save_draft(session.id, "resolve", "MY OLD DRAFT", version)

    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SessionList), "session list")
        held, release = hold_session_reads(services, once=True)  # the opening read waits; later ones do not
        await app.push_screen(Workspace(services, session.id))
        await wait_until(pilot, held.is_set, "the opening read started")
        pane = app.screen.query_one(PreviewPane)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: "HP M404" in pane.editor_text, "the regenerated note")
        release.set()
        await wait_until(
            pilot, lambda: all(w.is_finished for w in app.screen.workers if w.group == "open"), "opening done"
        )
        await settle(pilot)
        assert "HP M404" in pane.editor_text and "MY OLD DRAFT" not in pane.editor_text
        assert app.screen.query_one("#pane-facts").facts  # the opening still filled the other panes
