"""Snapshots of the preview pane, the Confirm & post modal and the post notifications, at 120x36 and 80x24.

Deterministic: demo data seeded with a fixed time, fixed clock in the app and the ConnectWise emulator, cursor
blink and animations off, every worker settled before the screenshot. Plain `def` tests (snap_compare runs its
own event loop).
"""

from __future__ import annotations

from typing import Any

import pytest
from preview_harness import OUTLOOK, VPN, PreviewHarness, seed_sync
from tui_helpers import make_settings, settle, wait_until

from flowpilot_tui.emulators.connectwise import ConnectWiseEmulator
from flowpilot_tui.screens.confirm_post import ConfirmPost

SIZES = [pytest.param((120, 36), id="120x36"), pytest.param((80, 24), id="80x24")]


async def open_modal(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("f9")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmPost), "confirm modal")
    await pilot.pause()


async def post_and_wait(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press(*"Confirmed", "space", *"fixed", "full_stop", "space")
    await open_modal(pilot)
    await pilot.press("ctrl+y")
    await wait_until(pilot, lambda: any(n.title for n in pilot.app._notifications), "outcome notification")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_resolve_preview(snap_compare: Any, db_url: str, size: tuple[int, int]) -> None:
    ids = seed_sync(db_url)
    assert snap_compare(PreviewHarness(make_settings(db_url), ids[OUTLOOK]), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_escalate_preview(snap_compare: Any, db_url: str, size: tuple[int, int]) -> None:
    ids = seed_sync(db_url)
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK], kind="escalate")
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_editing_with_stale_marker(snap_compare: Any, db_url: str, size: tuple[int, int]) -> None:
    ids = seed_sync(db_url)
    app = PreviewHarness(make_settings(db_url), ids[OUTLOOK])

    async def edit_then_change_facts(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press(*"Checked", "space", *"with", "space", *"jdoe", "full_stop", "space")
        await app.services.sessions.add_fact(app.session_id, "confirmed", "New profile: no prompt for 30 minutes")
        app.owner.refresh_session()
        await wait_until(
            pilot, lambda: app.owner.is_stale and not app.owner.drafts.dirty, "stale marker and saved draft"
        )
        await wait_until(pilot, lambda: app.owner.current.saved_text == app.owner.current.text, "draft saved")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=edit_then_change_facts)


@pytest.mark.parametrize("size", SIZES)
def test_confirm_modal_psa(snap_compare: Any, db_url: str, size: tuple[int, int]) -> None:
    ids = seed_sync(db_url)
    assert snap_compare(PreviewHarness(make_settings(db_url), ids[OUTLOOK]), terminal_size=size, run_before=open_modal)


@pytest.mark.parametrize("size", SIZES)
def test_confirm_modal_local(snap_compare: Any, db_url: str, size: tuple[int, int]) -> None:
    ids = seed_sync(db_url)
    assert snap_compare(PreviewHarness(make_settings(db_url), ids[VPN]), terminal_size=size, run_before=open_modal)


@pytest.mark.parametrize("size", SIZES)
def test_outcome_notification(
    snap_compare: Any, db_url: str, cw_env: ConnectWiseEmulator, size: tuple[int, int]
) -> None:
    ids = seed_sync(db_url)
    app = PreviewHarness(make_settings(db_url, cw=cw_env), ids[OUTLOOK])
    assert snap_compare(app, terminal_size=size, run_before=post_and_wait)


@pytest.mark.parametrize("size", SIZES)
def test_error_notification(snap_compare: Any, db_url: str, cw_env: ConnectWiseEmulator, size: tuple[int, int]) -> None:
    ids = seed_sync(db_url)
    cw_env.faults.silent_status_ignore = True
    app = PreviewHarness(make_settings(db_url, cw=cw_env), ids[OUTLOOK])
    assert snap_compare(app, terminal_size=size, run_before=post_and_wait)
