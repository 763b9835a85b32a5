"""Type the way terminals deliver keys: a burst of Key events posted to the app in one go (SSH batching, key-ahead,
an unbracketed paste), under an event loop slowed by a deliberately slow callback — never wall-clock assertions.

Why post straight to the app: `Pilot.press` waits for each key to be handled, which hides ordering bugs; a real
driver posts every parsed key at once and the app works through its queue.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from textual import events
from textual.keys import _character_to_key

SPECIAL = {"\r": "enter", "\n": "enter", "\x7f": "backspace", "\t": "tab"}


NAMED = re.compile(r"<([a-z][a-z0-9_]*(?:\+[a-z0-9_]+)*)>")  # <end>, <f2>, <ctrl+y>: a key without a character


def key_events(text: str) -> list[events.Key]:
    """Key events for `text` as a terminal sends it ("\\r" Enter, "\\x7f" Backspace, "<end>" / "<f2>" / "<ctrl+y>"
    a named key); fresh events on every call (a Message is processed once)."""
    out = []
    for i, part in enumerate(NAMED.split(text)):
        if i % 2:
            out.append(events.Key(part, None))
            continue
        for ch in part:
            name = SPECIAL.get(ch) or _character_to_key(ch)
            out.append(events.Key(name, ch if ch.isprintable() else None))
    return out


def burst(app: Any, text: str | list[events.Key]) -> None:
    """Post all keys to the app at once, as the driver does after one read() (`text` as for `key_events`)."""
    for event in key_events(text) if isinstance(text, str) else text:
        app.post_message(event)


@contextmanager
def slowed_loop(step_s: float = 0.005) -> Iterator[None]:
    """Every loop iteration also runs a blocking callback (a busy 2-core machine): ordering must not depend on speed."""
    loop = asyncio.get_running_loop()
    state = {"on": True}

    def slow() -> None:
        if state["on"]:
            time.sleep(step_s)
            loop.call_later(step_s, slow)

    loop.call_soon(slow)
    try:
        yield
    finally:
        state["on"] = False


def drained(app: Any) -> bool:
    """No message waits in any queue of the app, its screens or their widgets, and no worker runs: every posted key
    has been handled (a state, so a wrong result fails at once instead of at a timeout)."""
    pumps = [app, *app.screen_stack]
    for screen in app.screen_stack:
        pumps.extend(screen.query("*"))
    busy = any(not w.is_finished for w in app.workers)
    return not busy and all(pump._message_queue.empty() for pump in pumps)


async def until_drained(pilot: Any, predicate: Callable[[], bool], what: str) -> None:
    """Wait until `predicate()` holds or the app has handled everything posted (twice in a row): then it must hold."""
    idle = 0
    for _ in range(2000):
        if predicate():
            return
        idle = idle + 1 if drained(pilot.app) else 0
        if idle >= 3:
            break
        await pilot.pause()
        await asyncio.sleep(0.005)
    assert predicate(), f"{what}: not reached after every key was handled"


@asynccontextmanager
async def new_session_dialog(store: Any, engineer: Any, clock: Any, db_url: str) -> AsyncIterator[tuple[Any, Any, Any]]:
    """The app on the session list with the New session dialog open (ctrl+n): (services, app, pilot)."""
    from tui_helpers import make_settings, settle, wait_until

    from flowpilot_tui.app import make_app
    from flowpilot_tui.screens.new_session import NewSession
    from flowpilot_tui.services.container import Services

    services = Services(make_settings(db_url), store, engineer, clock)
    app = make_app(services.settings, services)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewSession), "new-session dialog")
        yield services, app, pilot
