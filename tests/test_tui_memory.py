"""A closed workspace is freed: the heap does not grow with each session opened (retention.py).

Why it matters to the engineer: a full garbage collection walks every live object on the UI thread. With ~30,000
objects left behind per closed workspace, that pause grew from 2 ms to 120-150 ms after a few sessions, landing
mid-key or mid-stream at random."""

from __future__ import annotations

import gc
import weakref

from support import FixedClock
from tui_helpers import demo_services, open_session, settle, wait_until

from flowpilot_tui.app import make_app
from flowpilot_tui.screens.session_list import SessionList
from flowpilot_tui.widgets.chat_input import ChatInput

OUTLOOK = "Outlook keeps"


async def open_and_close(pilot, app) -> weakref.ref:  # type: ignore[no-untyped-def]
    await open_session(pilot, OUTLOOK)
    await wait_until(pilot, lambda: app.screen.__class__.__name__ == "Workspace", "the workspace")
    await settle(pilot)
    chat_input = weakref.ref(app.screen.query_one(ChatInput))
    await pilot.press("escape")
    await wait_until(pilot, lambda: isinstance(app.screen, SessionList), "back at the list")
    await settle(pilot)
    await pilot.press("escape")  # leave the search box, as the engineer would before the next search
    await settle(pilot)
    return chat_input


async def test_closing_workspaces_frees_them_and_the_heap_stays_flat(db_url: str, clock: FixedClock) -> None:
    services = await demo_services(db_url, clock)
    app = make_app(services.settings, services)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await open_and_close(pilot, app)  # the first open pays one-off imports and caches
            gc.collect()
            before = len(gc.get_objects())
            closed = [await open_and_close(pilot, app) for _ in range(3)]
            gc.collect()
            grown = len(gc.get_objects()) - before
            assert [ref() for ref in closed] == [None, None, None]  # each closed workspace's text areas are gone
            assert grown < 5_000, f"{grown} objects left behind by 3 closed workspaces"  # was ~90,000
    finally:
        await services.close()
