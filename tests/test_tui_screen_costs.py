"""What the cheaper openings must not change: a workspace's first frame shows the session (not empty panes), a slow
read still shows the screen, a dialog's kept backdrop is exactly what Textual would draw (also after a theme
change or a resize), and the F1 tables kept across openings follow each app's own remaps and theme."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.screen import ModalScreen
from tui_helpers import demo_services, flat, flat_in, hold_session_reads, make_settings, settle, wait_until

from flowpilot_tui.app import make_app
from flowpilot_tui.screens import session_screen
from flowpilot_tui.screens.help import HelpScreen
from flowpilot_tui.screens.session_list import SessionList
from flowpilot_tui.screens.workspace import Workspace
from flowpilot_tui.services.container import Services
from flowpilot_tui.widgets.confirm_dialog import ConfirmDialog
from flowpilot_tui.widgets.facts_pane import FactsPane


class PaintRecorder(Workspace):
    """The workspace, noting at each paint whether the session was shown and how many facts were listed."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.paints: list[tuple[bool, int]] = []

    def _compositor_refresh(self) -> None:
        if self.is_current:
            self.paints.append((self.detail is not None, len(self.query_one(FactsPane).facts)))
        super()._compositor_refresh()


async def _session_with_facts(services: Services) -> str:
    session = await services.sessions.create("Outlook keeps asking for a password")
    await services.sessions.add_fact(session.id, "symptom", "Prompt appears every 10 minutes on one laptop")
    await services.sessions.add_fact(session.id, "confirmed", "Other users on the tenant are not affected")
    return session.id


async def test_the_workspace_first_frame_shows_the_session(store, engineer, clock, db_url) -> None:
    services = Services(make_settings(db_url), store, engineer, clock)
    sid = await _session_with_facts(services)
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SessionList), "session list")
        screen = PaintRecorder(services, sid)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.detail is not None and screen.paints, "workspace painted")
        await settle(pilot)
        assert screen.paints[0] == (True, 2)  # never a frame of empty panes first
        assert "Prompt appears every 10 minutes" in flat_in(app, "#pane-facts")


async def test_a_slow_opening_read_does_not_hold_the_screen(store, engineer, clock, db_url, monkeypatch) -> None:
    """The read is held until the test lets it go: the screen must paint (empty panes) and fill in afterwards."""
    monkeypatch.setattr(session_screen, "OPEN_WAIT_S", 0.05)
    services = Services(make_settings(db_url), store, engineer, clock)
    sid = await _session_with_facts(services)
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SessionList), "session list")
        _, release = hold_session_reads(services)
        screen = PaintRecorder(services, sid)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: bool(screen.paints), "the workspace painted while the read is held")
        assert screen.paints[0] == (False, 0)
        release.set()
        await wait_until(pilot, lambda: len(screen.query_one(FactsPane).facts) == 2, "the facts filled in")
        await settle(pilot)
        assert "Prompt appears every 10 minutes" in flat_in(app, "#pane-facts")


def _backdrop_lines(dialog: ModalScreen) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    """The dialog's own content (the dimmed screen beneath) as drawn now: each line's text, and its segments'."""
    strips = dialog.render_lines(Region(0, 0, dialog.size.width, dialog.size.height))
    return [(strip.text, repr([(seg.text, seg.style) for seg in strip])) for strip in strips]


def _textual_backdrop(dialog: ModalScreen) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    """What Textual itself draws there (its own render, bypassing the kept copy)."""
    from textual._context import visible_screen_stack

    visible_screen_stack.set(dialog.app._background_screens)
    dialog._styles_cache.clear()
    ModalScreen._render_content(dialog)
    return _backdrop_lines(dialog)


@pytest.mark.parametrize("dialog_kind", ["confirm dialog", "command palette"])
async def test_a_dialog_backdrop_is_what_textual_draws_after_a_theme_change_and_a_resize(
    db_url, clock, dialog_kind
) -> None:
    from textual.command import CommandPalette

    services = await demo_services(db_url, clock)
    try:
        app = make_app(services.settings, services)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SessionList), "session list")
            await settle(pilot)
            if dialog_kind == "command palette":
                await pilot.press("ctrl+p")
                await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "palette")
            else:
                app.push_screen(ConfirmDialog("Delete session", "Delete this session?", "Delete"))
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "dialog")
            await settle(pilot)
            dialog = app.screen
            for change in ("as opened", "theme", "resize"):
                if change == "theme":
                    app.theme = "textual-light"
                elif change == "resize":
                    await pilot.resize_terminal(100, 30)
                await settle(pilot)
                dialog.refresh()
                await settle(pilot)
                kept = _backdrop_lines(dialog)
                assert len(kept) == dialog.size.height
                assert "Outlook" in "".join(text for text, _ in kept)  # the list beneath shows through
                assert kept == _textual_backdrop(dialog), change
                beneath = app.screen_stack[-2]
                assert beneath._compositor.size == app.size  # laid out again for a resize while covered
    finally:
        await services.close()


async def test_help_shows_this_apps_remaps_after_another_app_opened_it(db_url, clock, tmp_path) -> None:
    """The F1 tables are kept across openings: a second app in the process (other remaps) must not be shown the
    first one's, and what it shows is what drawing its own tables gives."""
    from rich.segment import Segment

    from flowpilot_tui.widgets.rendered_lines import RenderedLines

    second_db = f"sqlite+aiosqlite:///{tmp_path}/second.db"
    for url, key, other in ((db_url, "f12", "f11"), (second_db, "f11", "f12")):  # the second app comes after
        services = await demo_services(url, clock, keymap={"app.help": key})
        try:
            app = make_app(services.settings, services)
            async with app.run_test(size=(120, 36)) as pilot:
                await settle(pilot)
                await pilot.press(key)
                await wait_until(pilot, lambda app=app: isinstance(app.screen, HelpScreen), "help")
                await settle(pilot)
                text = flat(app)
                assert f"{key} Help / keys app.help" in text and f"{other} Help" not in text
                for tables in app.screen.query(RenderedLines):
                    width = tables.content_region.width
                    options = app.console_options.update_width(width).update(highlight=False)
                    drawn = [list(line) for line in app.console.render_lines(tables.renderable, options, pad=False)]
                    kept = [list(strip) for strip in tables.lines(width)]
                    assert kept == drawn and all(isinstance(seg, Segment) for line in kept for seg in line)
        finally:
            await services.close()


async def test_facts_and_the_note_rewrap_when_the_panes_narrow(store, engineer, clock, db_url) -> None:
    """The first sizing no longer re-measures facts or rewraps the note (they were drawn at that width); a real
    change of width still must, or the wrapped lines are cut off."""
    from flowpilot_tui.widgets.preview_pane import PreviewPane

    services = Services(make_settings(db_url), store, engineer, clock)
    session = await services.sessions.create("VPN drops every hour")
    long_fact = "The client log shows the tunnel renegotiating at exactly sixty minutes and failing on the rekey"
    await services.sessions.add_fact(session.id, "symptom", long_fact)
    app = make_app(services.settings, services)
    async with app.run_test(size=(180, 36)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SessionList), "session list")
        await app.push_screen(Workspace(services, session.id))
        await wait_until(pilot, lambda: isinstance(app.screen, Workspace) and app.screen.current.loaded, "loaded")
        await settle(pilot)
        note = app.screen.query_one(PreviewPane).editor_text
        sentence = " ".join(note.split()[:12])
        assert long_fact in flat_in(app, "#pane-facts") and sentence in flat_in(app, "#pv-text")
        await pilot.resize_terminal(110, 36)
        await settle(pilot)
        assert long_fact in flat_in(app, "#pane-facts")
        assert sentence in flat_in(app, "#pv-text")
