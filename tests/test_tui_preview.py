"""Preview pane behaviour: what it loads, kinds keep their drafts, autosave, restart, stale marker, regenerate,
copy, literal rendering, viewer. Real SQLite file and real services; the pane runs in a small harness app.
"""

from __future__ import annotations

import re

import pytest
from preview_harness import OUTLOOK, PRINTER, VPN, PreviewHarness, seed_demo_db
from textual.widgets import Static
from tui_helpers import make_settings, settle, wait_until

from flowpilot_tui.screens.confirm_post import ConfirmPost
from flowpilot_tui.screens.discard_draft import DiscardDraft
from flowpilot_tui.services.container import Services
from flowpilot_tui.widgets.preview_pane import PreviewPane


def header(pane: PreviewPane) -> str:
    return " | ".join(str(pane.query_one(f"#{i}", Static).render()) for i in ("pv-kind", "pv-meta", "pv-stale"))


async def db_draft(app: PreviewHarness, kind: str) -> tuple[str, int] | None:
    assert app.services is not None
    return await app.services.sessions.get_draft(app.session_id, kind)


async def type_text(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*[{" ": "space", "\n": "enter"}.get(c, c) for c in text])


async def test_resolve_preview_shows_generated_note_and_target(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK])
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane, text = app.pane, header(app.pane)
        assert "RESOLVE — customer-visible" in text
        assert "ConnectWise ticket #48213 · customer-visible Resolution note" in text
        assert "state v12" in text and "generated offline" in text and "0 redacted" in text
        assert "Outlook prompts for the password" in pane.text_area.text
        assert not app.owner.is_stale and not pane.text_area.read_only


async def test_local_session_says_local_only_and_escalate_is_internal(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[VPN], kind="escalate")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        text = header(app.pane)
        assert "ESCALATE — internal" in text and "local only" in text
        assert "Problem" in app.pane.text_area.text  # the five-section package


async def test_toggle_kind_keeps_each_kinds_draft(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK])
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = app.pane
        await type_text(pilot, "R1 ")
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert app.owner.kind == "escalate" and "internal analysis note" in header(pane)
        assert not pane.text_area.text.startswith("R1 ")
        await type_text(pilot, "E1 ")
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert app.owner.kind == "resolve" and pane.text_area.text.startswith("R1 Issue reported")
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert pane.text_area.text.startswith("E1 ")
        await wait_until(pilot, lambda: not app.owner.drafts.dirty, "drafts saved")
        resolve, escalate = await db_draft(app, "resolve"), await db_draft(app, "escalate")
        assert resolve is not None and resolve[0].startswith("R1 Issue reported") and resolve[1] == 12
        assert escalate is not None and escalate[0].startswith("E1 ")


async def test_edit_is_autosaved_and_survives_a_restart(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK])
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = app.pane
        app.owner.autosave_delay = 3600  # hold the timer so the in-between state is observable however slow the machine
        await type_text(pilot, "Edited:")
        assert "saving draft…" in header(pane)
        assert await db_draft(app, "resolve") is None  # debounced: nothing written while typing
        app.owner.autosave_delay = 0.05
        await type_text(pilot, " ")  # the next keystroke re-arms the (now short) timer
        await wait_until(pilot, lambda: "draft saved" in header(pane), "autosave")
        saved = await db_draft(app, "resolve")
        assert saved is not None and saved[0].startswith("Edited: Issue reported")
    # A new app instance on the same DB file: the draft wins over the generated text.
    again = PreviewHarness(make_settings(db_url), ids[OUTLOOK])
    async with again.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert again.pane.text_area.text.startswith("Edited: Issue reported")
        assert "your edited draft (based on v12)" in header(again.pane)


async def test_text_typed_just_before_quitting_is_saved(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK])
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.owner.autosave_delay = 3600  # the timer cannot fire: only the save-on-close can keep this text
        await type_text(pilot, "Last words ")
        assert app.owner.drafts.dirty  # still inside the autosave delay when the app closes
    again = PreviewHarness(make_settings(db_url), ids[OUTLOOK])
    async with again.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert again.pane.text_area.text.startswith("Last words Issue reported")


async def test_stale_marker_when_facts_change_after_edit(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK])
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = app.pane
        await type_text(pilot, "Checked ")
        assert not app.owner.is_stale
        assert app.services is not None
        await app.services.sessions.add_fact(app.session_id, "confirmed", "New profile works without prompts")
        app.owner.refresh_session()
        await wait_until(pilot, lambda: app.owner.is_stale, "stale marker")
        assert pane.has_class("-stale")
        assert "STALE" in header(pane) and "(v12 → now v13)" in header(pane) and "edited" in header(pane)


async def test_regenerate_asks_before_discarding_an_edited_draft(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK])
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = app.pane
        generated = pane.text_area.text
        await type_text(pilot, "Mine ")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, DiscardDraft), "discard question")
        assert app.screen.focused is not None and app.screen.focused.id == "dd-keep"
        await pilot.press("escape")
        await settle(pilot)
        assert pane.text_area.text.startswith("Mine ")
        await wait_until(pilot, lambda: not app.owner.drafts.dirty)
        assert (await db_draft(app, "resolve")) is not None
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, DiscardDraft))
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert pane.text_area.text == generated
        assert (await db_draft(app, "resolve")) is None
        assert "your edited draft" not in header(pane)


async def test_copy_sends_text_to_clipboard_and_says_so(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK])
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f10")
        await pilot.pause()
        text = app.pane.text_area.text
        assert re.search(r"\[F\d+\]", text), text  # ids shown in the editor
        copied = app.clipboard
        assert not re.search(r"\[F\d+\]|\[CHECK", copied), copied  # ...but not pasted into a customer's ticket
        assert [line.split(" [F")[0].rstrip() for line in text.splitlines()] == copied.splitlines()
        assert any(
            f"Copied {len(copied):,} characters to the clipboard (OSC 52) (review markers and fact ids left out"
            in n.message
            for n in app._notifications
        )


async def test_markup_and_escape_sequences_render_literally(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    hostile = "[bold]Fixed[/bold] [link=https://evil.example]see[/link] \x1b]52;c;ZXZpbA==\x07done \x1b[31mred"

    async def prepare(services: Services) -> None:
        await services.sessions.save_draft(ids[OUTLOOK], "resolve", hostile, 12)

    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK], prepare=prepare)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = app.pane.text_area.text
        assert shown == "[bold]Fixed[/bold] [link=https://evil.example]see[/link] done red"
        screen = re.sub(r"<[^>]+>", "", app.export_screenshot()).replace("&#160;", " ")
        assert "\x1b" not in screen and "[bold]Fixed[/bold] [link=https://evil.example]see[/link] done red" in screen


async def test_closed_session_shows_the_stored_note(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[PRINTER])
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.pane.text_area.text.startswith("## Resolution\n\nThe second-floor printer")
        assert "the note saved when the session was resolved (read-only)" in header(app.pane)
        assert app.pane.text_area.read_only and app.pane.check_action("confirm_post", ()) is False  # not offered


async def test_when_the_generator_fails_the_pane_shows_no_invented_text(db_url: str) -> None:
    """Claude is configured but its client cannot be built: the header says why, the editor stays empty."""
    from flowpilot_tui.services.errors import ConfigError

    ids = await seed_demo_db(db_url)

    def broken_client(_llm: object) -> object:
        raise ConfigError("the model endpoint is not reachable")

    settings = make_settings(db_url)
    settings.llm.provider = "anthropic"
    app = PreviewHarness(settings, ids[OUTLOOK], anthropic_client_factory=broken_client)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        assert app.pane.text_area.text == ""
        assert "generator unavailable: the model endpoint is not reachable; no stored text" in header(app.pane)
        await pilot.press("ctrl+g")  # regenerating asks again and says the same, inventing nothing
        await settle(pilot)
        assert app.pane.text_area.text == "" and "generator unavailable" in header(app.pane)


async def test_viewer_reads_but_cannot_edit_regenerate_or_post(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await seed_demo_db(db_url)
    monkeypatch.setenv("FLOWPILOT_USER", "demo.viewer")
    app = PreviewHarness(make_settings(db_url, user="demo.viewer"), ids[OUTLOOK])
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        pane = app.pane
        before = pane.text_area.text
        assert pane.text_area.read_only and "Read-only (viewer)" in str(pane.query_one("#pv-readonly", Static).render())
        await type_text(pilot, "x")
        await pilot.press("f9", "ctrl+g")
        await pilot.pause()
        assert pane.text_area.text == before and not isinstance(app.screen, (ConfirmPost, DiscardDraft))
        app.owner.confirm_post()  # as the workspace would forward it
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmPost)
        assert any("Read-only (viewer)" in n.message for n in app._notifications)
        assert await db_draft(app, "resolve") is None


async def test_engineer_can_see_what_was_redacted_locally(db_url: str) -> None:
    """The header counts redactions; F6 lists each masked value (local only), markup shown literally."""
    from flowpilot_tui.screens.redactions import RedactionsScreen
    from flowpilot_tui.services import accounts
    from flowpilot_tui.services.sessions import SessionService
    from flowpilot_tui.services.store import Store

    ids = await seed_demo_db(db_url)
    store = await Store.open(db_url)
    svc = SessionService(store, await accounts.resolve_actor(store, "alice"))
    await svc.add_fact(ids[VPN], "environment", "VPN admin login: password: [bold]Hunter2-Secret!")
    await store.close()
    app = PreviewHarness(make_settings(db_url), ids[VPN], kind="escalate")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "1 redacted" in header(app.pane)
        assert "Hunter2-Secret" not in app.pane.text_area.text
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, RedactionsScreen))
        await pilot.pause()
        screen = app.screen
        assert "Redacted before sending: 1" in str(screen.query_one("#rd-box").border_title)
        from rich.console import Console

        from flowpilot_tui.screens.redactions import redactions_table

        console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
        console.print(redactions_table(screen.items))
        listed = console.export_text()
        # The original is shown literally (the "[bold]" is text, not Rich markup) next to its placeholder.
        assert "[bold]Hunter2-Secret!" in listed and "[REDACTED:password]" in listed
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RedactionsScreen)
