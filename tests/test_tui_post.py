"""Confirm & post from the preview pane: what the modal says, explicit confirm, local resolve, ConnectWise posts
(real provider over loopback HTTP to the emulator), failures that keep the draft, and secret acknowledgement.
"""

from __future__ import annotations

from typing import Any

from post_helpers import messages, modal_text, open_modal, with_draft
from preview_harness import OUTLOOK, PRINTER, VPN, PreviewHarness, seed_demo_db
from textual.widgets import Button, Checkbox, Static
from tui_helpers import make_settings, settle, wait_until

from flowpilot_tui.emulators.connectwise import ConnectWiseEmulator
from flowpilot_tui.screens.confirm_post import ConfirmPost
from flowpilot_tui.screens.follow_up import FollowUpOffer
from flowpilot_tui.services.container import Services


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*[{" ": "space", ":": "colon"}.get(c, c) for c in text])


async def session_row(app: PreviewHarness) -> Any:
    assert app.services is not None
    return await app.services.sessions.get(app.session_id)


# ---- local (no ticket) ---------------------------------------------------------------------------------------


async def test_local_resolve_changes_status_and_clears_draft(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[VPN])
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await type_text(pilot, "Done ")
        modal = await open_modal(pilot)
        assert "Resolve locally: no ticket is linked; nothing is sent" in modal_text(modal)
        assert modal.focused is not None and modal.focused.id == "cp-cancel"
        assert app.services is not None and await app.services.sessions.get_draft(app.session_id, "resolve") is not None
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: bool(app.posted), "Posted message")
        await settle(pilot)
        detail = await session_row(app)
        assert detail.summary.status == "resolved"
        assert detail.resolution_note_markdown.startswith("Done Issue")
        assert await app.services.sessions.get_draft(app.session_id, "resolve") is None
        assert app.posted[0].outcome.outcome == "resolved_local" and app.posted[0].kind == "resolve"
        assert any("Resolved locally" in m for m in messages(app))
        assert app.pane.text_area.text.startswith("Done Issue") and not app.owner.current.is_draft


async def test_bare_keys_do_not_confirm_and_cancel_keeps_everything(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[VPN], prepare=with_draft(ids[VPN], "resolve", "My note", 7))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await open_modal(pilot)
        await pilot.press("y", "p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmPost)  # no single unmodified key posts
        await pilot.press("enter")  # focus starts on Cancel
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmPost))
        await pilot.pause()
        await open_modal(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmPost))
        await settle(pilot)
        assert (await session_row(app)).summary.status == "active" and not app.posted
        assert app.services is not None
        assert await app.services.sessions.get_draft(app.session_id, "resolve") == ("My note", 7)
        assert app.pane.text_area.text == "My note"
        assert any("Not posted: nothing was sent; your text is kept." in m for m in messages(app))


async def test_empty_note_is_refused(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[VPN], prepare=with_draft(ids[VPN], "resolve", "", 7))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        modal = await open_modal(pilot)
        assert "Nothing to post: the note is empty" in modal_text(modal)
        assert modal.query_one("#cp-confirm", Button).disabled
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmPost)
        await pilot.press("escape")
        await settle(pilot)
        assert (await session_row(app)).summary.status == "active"


async def test_already_resolved_session_cannot_be_posted_again(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[PRINTER])
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f9")  # the binding is disabled for a resolved session
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmPost)
        app.owner.confirm_post()  # as the workspace would forward it
        await wait_until(pilot, lambda: bool(messages(app)), "refusal")
        assert messages(app) == ["Cannot post: Session is already resolved. Nothing was sent."]
        assert not isinstance(app.screen, ConfirmPost)


async def test_secrets_in_customer_visible_note_need_acknowledgement(db_url: str) -> None:
    ids = await seed_demo_db(db_url)
    note = "Reset the mailbox.\nTemporary password: Sup3r-Secr3t!x9 given to the user."
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK], prepare=with_draft(ids[OUTLOOK], "resolve", note, 12))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        modal = await open_modal(pilot)
        text = modal_text(modal)
        assert "1 secret-like string(s) found" in text and "line 2: password" in text
        assert "customer-visible Resolution note to ConnectWise ticket #48213" in text
        confirm = modal.query_one("#cp-confirm", Button)
        assert confirm.disabled
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmPost)
        assert any("Tick the acknowledgement" in m for m in messages(app))
        modal.query_one("#cp-ack", Checkbox).value = True
        await pilot.pause()
        assert not confirm.disabled
        await pilot.press("escape")
        await settle(pilot)
        assert app.pane.text_area.text == note  # never changed silently


# ---- ConnectWise (emulator over loopback HTTP) ----------------------------------------------------------------


async def test_psa_resolve_posts_note_sets_and_verifies_status(db_url: str, cw_env: ConnectWiseEmulator) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url, cw=cw_env), ids[OUTLOOK])
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await type_text(pilot, "Fixed ")
        modal = await open_modal(pilot)
        text = modal_text(modal)
        assert (
            "Post a customer-visible Resolution note to ConnectWise ticket #48213 (connection demo-cw), then set "
            "status Completed (17) and verify it by re-reading the ticket." in text  # the name, read from the board
        )
        assert "The customer can see this note" in text
        since = len(cw_env.requests)
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: bool(app.posted), "Posted message")
        await settle(pilot)
        notes = cw_env.notes_on(48213)
        assert any("Fixed Issue reported" in n.text and n.flags.get("resolutionFlag") for n in notes)
        assert cw_env.state.tickets[48213].status_id == 17
        # issue 15: the modal already read the ticket and its board, so the post is note, status, two re-reads
        assert [r.method for r in cw_env.requests[since:]] == ["POST", "PATCH", "GET", "GET"]
        assert "Verifying: re-checking the status in 2 s…" in messages(app)
        assert any(
            m.startswith("Resolved · ConnectWise ticket #48213 status verified: Completed (17)") for m in messages(app)
        )
        assert (await session_row(app)).summary.status == "resolved"
        assert app.services is not None and await app.services.sessions.get_draft(app.session_id, "resolve") is None


async def test_psa_escalate_posts_internal_note(db_url: str, cw_env: ConnectWiseEmulator) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url, cw=cw_env), ids[OUTLOOK], kind="escalate")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        modal = await open_modal(pilot)
        assert (
            "Post an internal analysis note (not customer-visible, no notifications) to ConnectWise ticket #48213"
            in modal_text(modal)
        )
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: bool(app.posted), "Posted message")
        note = cw_env.notes_on(48213)[-1]
        assert note.flags.get("internalAnalysisFlag") and not note.flags.get("resolutionFlag")
        assert not note.flags.get("detailDescriptionFlag") and not note.process_notifications
        assert cw_env.state.tickets[48213].status_id == 12
        assert any(
            m.startswith("Escalated · ConnectWise ticket #48213 status verified: Escalated to L2 (12)")
            for m in messages(app)
        )


async def test_psa_error_keeps_draft_in_db_and_pane(db_url: str, cw_env: ConnectWiseEmulator) -> None:
    ids = await seed_demo_db(db_url)
    cw_env.faults.server_error_next = 20
    cw_env.faults.server_error_methods = frozenset({"POST"})
    app = PreviewHarness(make_settings(db_url, cw=cw_env), ids[OUTLOOK])
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await type_text(pilot, "Keep me ")
        await open_modal(pilot)
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: any("your text is kept" in m for m in messages(app)), "error notification")
        await settle(pilot)
        error = next(n for n in app._notifications if n.severity == "error")
        assert error.title == "Resolve not completed"
        assert error.message.endswith("The session was not marked resolved; your text is kept.")
        assert not app.posted and app.pane.text_area.text.startswith("Keep me Issue")
        assert app.services is not None
        draft = await app.services.sessions.get_draft(app.session_id, "resolve")
        assert draft is not None and draft[0].startswith("Keep me Issue")
        assert (await session_row(app)).summary.status == "active"
        assert not app.pane.text_area.read_only  # editor unlocked again


async def test_unverified_status_says_note_posted_and_keeps_draft(db_url: str, cw_env: ConnectWiseEmulator) -> None:
    ids = await seed_demo_db(db_url)
    cw_env.faults.silent_status_ignore = True
    app = PreviewHarness(make_settings(db_url, cw=cw_env), ids[OUTLOOK])
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await type_text(pilot, "Again ")
        await open_modal(pilot)
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: any(n.severity == "error" for n in app._notifications), "error notification")
        await settle(pilot)
        error = next(n for n in app._notifications if n.severity == "error").message
        note_id = cw_env.notes_on(48213)[-1].id
        assert error.startswith(f"Note #{note_id} was posted but the status change was not verified")
        assert "ticket #48213 shows In Progress. The session stays open; your text is kept" in error
        assert app.services is not None
        draft = await app.services.sessions.get_draft(app.session_id, "resolve")
        assert draft is not None and draft[0].startswith("Again Issue")
        assert (await session_row(app)).summary.status == "active" and not app.posted
        # Once ConnectWise behaves, confirming again finishes the job without a second note.
        cw_env.faults.silent_status_ignore = False
        await open_modal(pilot)
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: bool(app.posted), "Posted message")
        assert [n.id for n in cw_env.notes_on(48213)] == [note_id]
        assert any(f"note #{note_id} was already on the ticket (not posted again)" in m for m in messages(app))
        assert (await session_row(app)).summary.status == "resolved"


async def test_without_target_status_the_note_is_posted_and_status_left_alone(
    db_url: str, cw_env: ConnectWiseEmulator
) -> None:
    ids = await seed_demo_db(db_url)

    async def no_target_status(services: Services) -> None:
        from flowpilot_tui.services.models import Account

        async with services.store.write() as db:
            account = await db.get(Account, services.actor.account_id)
            account.preferences = {"cw_escalated_status_id": 12}

    app = PreviewHarness(make_settings(db_url, cw=cw_env), ids[OUTLOOK], prepare=no_target_status)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        modal = await open_modal(pilot)
        assert (
            "The ticket status is not changed: no target status is configured (cw_resolved_status_id is not set)."
            in modal_text(modal)
        )
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: bool(app.posted), "Posted message")
        note_id = cw_env.notes_on(48213)[-1].id
        assert cw_env.state.tickets[48213].status_id == 2  # still In Progress
        assert any(
            m.startswith(
                f"Resolved · Note #{note_id} posted to ConnectWise ticket #48213; status unchanged: "
                "no target status is configured"
            )
            for m in messages(app)
        )


async def test_unreachable_psa_says_so_and_keeps_everything(db_url: str, cw_env: ConnectWiseEmulator) -> None:
    """The PSA is down (connection refused): a clear error, nothing marked, the edited text kept in pane and DB."""
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url, cw=cw_env), ids[OUTLOOK])
    cw_env.stop()
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await type_text(pilot, "Offline ")
        await open_modal(pilot)
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: any(n.severity == "error" for n in app._notifications), "error notification")
        await settle(pilot)
        error = next(n for n in app._notifications if n.severity == "error")
        assert "your text is kept" in error.message and "not marked resolved" in error.message
        assert not app.posted and app.pane.text_area.text.startswith("Offline Issue")
        assert app.services is not None
        draft = await app.services.sessions.get_draft(app.session_id, "resolve")
        assert draft is not None and draft[0].startswith("Offline Issue")
        assert (await session_row(app)).summary.status == "active"


async def test_unconfigured_connection_is_a_clear_error_not_a_crash(db_url: str) -> None:
    """The session links to `demo-cw` but this config has no such connection: say which, keep the text."""
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK])
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await type_text(pilot, "Unsent ")
        await open_modal(pilot)
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: any(n.severity == "error" for n in app._notifications), "error notification")
        await settle(pilot)
        error = next(n for n in app._notifications if n.severity == "error")
        assert "'demo-cw' is not configured" in error.message
        assert app.pane.text_area.text.startswith("Unsent Issue")
        assert (await session_row(app)).summary.status == "active"


# ---- a retry that finds an earlier version of the note on the ticket (issue 16) -------------------------------


async def _retry_with_edits(pilot: Any, app: PreviewHarness, cw: ConnectWiseEmulator) -> FollowUpOffer:
    """Post once with the status change silently ignored (the note is on the ticket, the session stays open), add a
    line, Confirm & post again: the outcome is the follow-up offer."""
    cw.faults.silent_status_ignore = True
    await settle(pilot)
    await open_modal(pilot)
    await pilot.press("ctrl+y")
    await wait_until(pilot, lambda: any(n.severity == "error" for n in app._notifications), "status not verified")
    await settle(pilot)
    cw.faults.silent_status_ignore = False
    await type_text(pilot, "Also cleared the cached credentials.")
    await pilot.press("enter")
    await open_modal(pilot)
    await pilot.press("ctrl+y")
    await wait_until(pilot, lambda: isinstance(app.screen, FollowUpOffer), "the follow-up offer")
    await pilot.pause()
    assert isinstance(app.screen, FollowUpOffer)
    return app.screen


async def press_post(pilot: Any, screen: FollowUpOffer) -> None:
    """Tab from "Not now" (where the focus starts, at both steps) to the post button, Enter."""
    await pilot.press("tab")
    assert screen.focused is screen.query_one("#fu-post")
    await pilot.press("enter")
    await pilot.pause()


def offer_text(screen: FollowUpOffer) -> str:
    return "\n".join(str(w.render()) for w in screen.query(Static) if w.display and not isinstance(w, Button))


async def test_a_retry_that_finds_an_earlier_note_offers_the_difference_and_posts_it_after_confirmation(
    db_url: str, cw_env: ConnectWiseEmulator
) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url, cw=cw_env), ids[OUTLOOK])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        offer = await _retry_with_edits(pilot, app, cw_env)
        (first,) = cw_env.notes_on(48213)  # not posted again
        text = offer_text(offer)
        assert f"Ticket #48213 holds a different text: its resolution note #{first.id} is an earlier version" in text
        assert "Follow-up:\n\nAlso cleared the cached credentials." in text  # the difference, shown
        assert "Post the difference above as a new" not in text  # the confirmation comes second
        await press_post(pilot, offer)
        assert "Post the difference above as a new customer-visible Resolution note to ticket #48213?" in offer_text(
            offer
        )
        assert len(cw_env.notes_on(48213)) == 1  # the first press only asked
        await press_post(pilot, offer)
        await wait_until(pilot, lambda: any("the session keeps both notes" in m for m in messages(app)), "follow-up")
        await settle(pilot)
        original, added = cw_env.notes_on(48213)
        assert added.text == "Follow-up:\n\nAlso cleared the cached credentials."  # what was shown, nothing more
        assert added.flags.get("resolutionFlag") and original.id == first.id  # same visibility, nothing reposted
        assert (await session_row(app)).summary.status == "resolved"
        assert app.services is not None
        stored = await app.services.sessions.get(app.session_id)
        assert stored.resolution_note_markdown == f"{original.text}\n\n{added.text}"  # what the ticket shows


async def test_the_follow_up_offer_sends_nothing_unless_confirmed(db_url: str, cw_env: ConnectWiseEmulator) -> None:
    ids = await seed_demo_db(db_url)
    app = PreviewHarness(make_settings(db_url, cw=cw_env), ids[OUTLOOK])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        offer = await _retry_with_edits(pilot, app, cw_env)
        await press_post(pilot, offer)  # asked once, then Esc at the confirmation
        assert "Post the difference above" in offer_text(offer)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FollowUpOffer), "offer closed")
        await settle(pilot)
        assert len(cw_env.notes_on(48213)) == 1
        assert not any("Follow-up" in (n.title or "") for n in app._notifications)
