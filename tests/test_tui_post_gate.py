"""The post gate in Confirm & post (issue 11): open `[CHECK: …]` review flags and secrets in an internal note are
listed and need an explicit tick before confirm; the posted note (ConnectWise emulator over loopback HTTP) has no
review markers and the audit log records the accepted flags.
"""

from __future__ import annotations

from typing import Any

from post_helpers import messages, modal_text, open_modal, with_draft
from preview_harness import OUTLOOK, VPN, PreviewHarness, seed_demo_db, seed_sync
from sqlalchemy import select
from textual.widgets import Button, Checkbox
from tui_helpers import make_settings, settle, wait_until

from flowpilot_tui.emulators.connectwise import ConnectWiseEmulator
from flowpilot_tui.screens.confirm_post import ConfirmPost
from flowpilot_tui.services.models import AuditEvent

TICKET = 48213
FLAGGED = (
    "## What we did\n"
    "- Rebuilt the Outlook profile for jdoe [F1]\n"
    "- Cleared cached credentials in Credential Manager [CHECK: action not supported by a tried fact]\n"
    "## Result\n"
    "- Outlook no longer prompts [CHECK: outcome not confirmed by the user]\n"
)


async def accepted_events(app: PreviewHarness) -> list[AuditEvent]:
    assert app.services is not None
    async with app.services.store.read() as db:
        query = select(AuditEvent).where(AuditEvent.action == "writeback.flags_accepted")
        return list((await db.scalars(query)).all())


async def test_flagged_note_is_not_posted_without_acknowledgement(db_url: str, cw_env: ConnectWiseEmulator) -> None:
    ids = await seed_demo_db(db_url)
    before = len(cw_env.notes_on(TICKET))
    app = PreviewHarness(
        make_settings(db_url, cw=cw_env), ids[OUTLOOK], prepare=with_draft(ids[OUTLOOK], "resolve", FLAGGED)
    )
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        modal = await open_modal(pilot)
        text = modal_text(modal)
        assert "2 open review flag(s)" in text
        assert (
            "What we did: “Cleared cached credentials in Credential Manager” — action not supported by a tried fact"
            in text
        )
        assert "Result: “Outlook no longer prompts” — outcome not confirmed by the user" in text
        assert "Review markers [CHECK: …] are removed from what is posted." in text
        assert modal.query_one("#cp-confirm", Button).disabled
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmPost)  # still asking
        assert any("Tick that you reviewed the open review flags first" in m for m in messages(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmPost))
        await settle(pilot)
        assert len(cw_env.notes_on(TICKET)) == before and not app.posted
        assert cw_env.api_calls("POST") == []
        assert await accepted_events(app) == []
        assert app.pane.text_area.text == FLAGGED  # the draft is untouched
        assert app.services is not None
        assert (await app.services.sessions.get(app.session_id)).summary.status == "active"


async def test_acknowledged_flags_are_posted_without_markers_and_audited(
    db_url: str, cw_env: ConnectWiseEmulator
) -> None:
    ids = await seed_demo_db(db_url)
    before = len(cw_env.notes_on(TICKET))
    app = PreviewHarness(
        make_settings(db_url, cw=cw_env), ids[OUTLOOK], prepare=with_draft(ids[OUTLOOK], "resolve", FLAGGED)
    )
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        modal = await open_modal(pilot)
        confirm = modal.query_one("#cp-confirm", Button)
        assert confirm.disabled
        await pilot.click("#cp-flags-ack")
        await pilot.pause()
        assert modal.query_one("#cp-flags-ack", Checkbox).value and not confirm.disabled
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: bool(app.posted), "Posted message")
        await settle(pilot)
        notes = cw_env.notes_on(TICKET)
        assert len(notes) == before + 1
        posted = notes[-1].text
        assert "[CHECK" not in posted and "[F1]" not in posted
        assert "Cleared cached credentials in Credential Manager" in posted
        assert "Outlook no longer prompts" in posted
        [event] = await accepted_events(app)
        assert [(f["section"], f["reason"]) for f in event.detail["flags"]] == [
            ("What we did", "action not supported by a tried fact"),
            ("Result", "outcome not confirmed by the user"),
        ]
        assert app.services is not None and event.detail["accepted_by"] == app.services.actor.user_id
        assert (await app.services.sessions.get(app.session_id)).summary.status == "resolved"


async def test_secret_in_internal_note_needs_the_same_acknowledgement(db_url: str, cw_env: ConnectWiseEmulator) -> None:
    ids = await seed_demo_db(db_url)
    note = "Escalating to L2.\nTemporary password: Sup3r-Secr3t!x9 set on the mailbox."
    before = len(cw_env.notes_on(TICKET))
    app = PreviewHarness(
        make_settings(db_url, cw=cw_env),
        ids[OUTLOOK],
        kind="escalate",
        prepare=with_draft(ids[OUTLOOK], "escalate", note),
    )
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        modal = await open_modal(pilot)
        assert "1 secret-like string(s) found in the note (internal note" in modal_text(modal)
        assert modal.query_one("#cp-confirm", Button).disabled
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmPost) and len(cw_env.notes_on(TICKET)) == before
        await pilot.click("#cp-flags-ack")
        await pilot.pause()
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: bool(app.posted), "Posted message")
        assert len(cw_env.notes_on(TICKET)) == before + 1
        [event] = await accepted_events(app)
        assert event.detail["flags"][0]["reason"].startswith("contains a secret-like string (password")


def test_confirm_modal_with_flags_snapshot(snap_compare: Any, db_url: str) -> None:
    ids = seed_sync(db_url)
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK], prepare=with_draft(ids[OUTLOOK], "resolve", FLAGGED))
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_modal)


async def test_local_resolve_lists_flags_needs_the_tick_and_stores_no_markers(db_url: str) -> None:
    """No ticket linked: the modal lists the same flags and needs the same tick; the stored note has no markers."""
    ids = await seed_demo_db(db_url)
    note = FLAGGED.replace("[F1]", "[F1, X2]")
    app = PreviewHarness(make_settings(db_url), ids[VPN], prepare=with_draft(ids[VPN], "resolve", note))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        modal = await open_modal(pilot)
        assert modal.plan.local
        text = modal_text(modal)
        assert "2 open review flag(s)" in text and "Review markers [CHECK: …] are removed from what is stored." in text
        assert modal.query_one("#cp-confirm", Button).disabled
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmPost)  # still asking: nothing stored
        assert app.services is not None
        assert (await app.services.sessions.get(app.session_id)).summary.status == "active"
        await pilot.click("#cp-flags-ack")
        confirm = modal.query_one("#cp-confirm", Button)
        await wait_until(pilot, lambda: not confirm.disabled, "confirm enabled by the tick")
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: bool(app.posted), "Posted message")
        await settle(pilot)
        detail = await app.services.sessions.get(app.session_id)
        assert detail.summary.status == "resolved"
        stored = detail.resolution_note_markdown or ""
        assert "[CHECK" not in stored and "[F1" not in stored and "X2]" not in stored
        assert "Cleared cached credentials in Credential Manager" in stored
        [event] = await accepted_events(app)
        assert event.detail["local"] is True and len(event.detail["flags"]) == 2


async def test_local_resolve_with_a_secret_needs_the_customer_tick(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    note = "Issue reported: guest Wi-Fi down.\n\nWhat we did: Wi-Fi key: Guest2024Cafe set again."
    app = PreviewHarness(make_settings(db_url), ids[VPN], prepare=with_draft(ids[VPN], "resolve", note))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        modal = await open_modal(pilot)
        assert "they would be kept in the resolution note" in modal_text(modal)
        assert modal.query_one("#cp-confirm", Button).disabled
        await pilot.click("#cp-ack")
        confirm = modal.query_one("#cp-confirm", Button)
        await wait_until(pilot, lambda: not confirm.disabled, "confirm enabled by the tick")
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: bool(app.posted), "Posted message")
        await settle(pilot)
        assert app.services is not None
        assert (await app.services.sessions.get(app.session_id)).summary.status == "resolved"
