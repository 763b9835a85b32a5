"""Snapshots of the session list, the workspace (engineer and viewer), the help screen and an error notification,
at 120×36 and 80×24.

Deterministic: demo data seeded with the fixed clock, the app opens its own services (its own event loop) with a
fixed clock, cursor blink and animations off, workers settled before the screenshot, no ids on screen.
Plain `def` tests: snap_compare runs its own event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import FixedClock
from textual.pilot import Pilot
from tui_helpers import make_settings, open_session, settle, wait_until

from flowpilot_tui.app import make_app

SIZES = [pytest.param((120, 36), id="120x36"), pytest.param((80, 24), id="80x24")]
OUTLOOK = "Outlook keeps"


def seeded_app(db_url: str, user: str = "alice") -> Any:
    from flowpilot_tui.services import demo
    from flowpilot_tui.services.store import Store

    async def seed() -> None:
        store = await Store.open(db_url)
        await demo.seed_demo(store, "alice", FixedClock()())
        await store.close()

    asyncio.run(seed())
    return make_app(make_settings(db_url, user), clock=FixedClock())


def narrow(size: tuple[int, int]) -> bool:
    return size[0] < 100


@pytest.mark.parametrize("size", SIZES)
def test_session_list(snap_compare: Any, db_url: str, size: tuple[int, int]) -> None:
    assert snap_compare(seeded_app(db_url), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_workspace_with_active_fix(snap_compare: Any, db_url: str, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        await pilot.press("f4")  # focus the fix card (its tab when narrow)
        await settle(pilot)

    assert snap_compare(seeded_app(db_url), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_viewer_workspace(snap_compare: Any, db_url: str, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        if narrow(size):
            await pilot.press("f4")
        await settle(pilot)

    assert snap_compare(seeded_app(db_url, "demo.viewer"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare: Any, db_url: str, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(seeded_app(db_url), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_conflict_error_notification(snap_compare: Any, db_url: str, size: tuple[int, int]) -> None:
    """Another window supersedes the fix; dismissing the stale one is refused and the card re-reads the session."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await open_session(pilot, OUTLOOK)
        app: Any = pilot.app
        await app.screen.live.close()  # this window has not heard of the other one's change yet (live updates off)
        page = await app.services.sessions.list_sessions(search=OUTLOOK)
        await app.services.sessions.propose_fix(
            page.items[0].id,
            "Repair Office",
            rationale="Quick Repair first.",
            steps=["Apps > Microsoft 365 > Modify", "Quick Repair"],
        )
        await pilot.press("f4", "ctrl+x")
        # state, not time: the refusal arrives from a worker that a busy loop may not have started yet
        await wait_until(pilot, lambda: any("superseded" in n.message for n in app._notifications), "refusal")
        await settle(pilot)

    assert snap_compare(seeded_app(db_url), terminal_size=size, run_before=run_before)
