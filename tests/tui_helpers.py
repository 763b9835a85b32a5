"""Helpers for TUI tests: settings, a demo database behind real services, waiting on state, reading the screen.

Why read the compositor's strips: they are exactly the characters the terminal would receive (styles aside), so
"literal text" and "no control characters" are checked on what the user sees, not on widget internals.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from support import FixedClock
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerError

from flowpilot_tui.config import ConnectWiseConnection, Settings

CW_CONNECTION = {
    "api_url": "http://127.0.0.1:9/v4_6_release/apis/3.0",
    "company_id": "acme",
    "public_key": "pub",
    "private_key_env": "CW_TEST_PRIVATE_KEY",
    "client_id": "client",
}


CW_KEY_ENV = "FP_TEST_CW_PRIVATE_KEY"


def make_settings(
    db_url: str, user: str = "alice", *, cw: Any = None, cw_options: dict[str, Any] | None = None, **overrides: Any
) -> Settings:
    """Settings for a test app: blink and animations off; `cw` (a started ConnectWiseEmulator) becomes the demo
    connection `demo-cw` with its private key read from CW_KEY_ENV (`cw_options`: more connection settings)."""
    ui = {"cursor_blink": False, "animations": "none", **overrides.pop("ui", {})}
    if cw is not None:
        overrides["connections"] = {
            "demo-cw": ConnectWiseConnection(
                site=cw.site_url,
                company_id=cw.company_id,
                public_key=cw.public_key,
                private_key_env=CW_KEY_ENV,
                client_id=cw.client_id,
                timeout_s=5,
                **(cw_options or {}),
            )
        }
    settings = Settings(db_url=db_url, ui=ui, **overrides)
    settings.user = user  # the test environment sets FLOWPILOT_USER, which would win over an init argument
    return settings


async def demo_services(db_url: str, clock: FixedClock, user: str = "alice", **settings: Any) -> Any:
    """Seed the labelled demo account (fixed clock) and open services as `user`."""
    from flowpilot_tui.services import demo
    from flowpilot_tui.services.container import open_services
    from flowpilot_tui.services.store import Store

    store = await Store.open(db_url)
    await demo.seed_demo(store, "alice", clock())
    await store.close()
    return await open_services(make_settings(db_url, user, **settings), clock=clock)


async def settle(pilot: Pilot[Any]) -> None:
    """Let queued messages, workers and the refreshes they trigger finish: waits on the workers' completion (state,
    not time). A superseded exclusive worker ends cancelled, which is not a failure; a worker that failed raises."""
    for _ in range(50):
        await pilot.pause()
        running = [w for w in pilot.app.workers if not w.is_finished]
        if not running:
            await pilot.pause()
            return
        for worker in running:
            with contextlib.suppress(WorkerCancelled, WorkerError):  # WorkerError: not started yet; next round
                await worker.wait()
    raise AssertionError(f"workers kept starting: {[w.name for w in pilot.app.workers]}")


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], bool], what: str = "condition") -> None:
    """Poll `predicate` between event-loop turns (state, not time: the bound is only a safety net)."""
    for _ in range(1000):
        if predicate():
            return
        await pilot.pause()
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def screen_lines(app: Any) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app: Any) -> str:
    return "\n".join(screen_lines(app))


def flat(app: Any) -> str:
    """Screen text with line breaks and runs of spaces collapsed (wrapped text can be searched as a phrase)."""
    return " ".join(screen_text(app).split())


def flat_in(app: Any, selector: str) -> str:
    """Flattened text inside one widget's region on screen (side-by-side panes are not interleaved)."""
    region = app.screen.query_one(selector).content_region
    strips = app.screen._compositor.render_strips()
    lines = [strips[y].crop(region.x, region.right).text for y in range(region.y, region.bottom)]
    return " ".join(" ".join(lines).split())


def screen_segments(app: Any) -> list[Any]:
    return [seg for strip in app.screen._compositor.render_strips() for seg in strip]


async def open_session(pilot: Pilot[Any], title_part: str) -> None:
    """From the session list, open the session whose title contains `title_part` (via search + Enter)."""
    await pilot.press("slash")
    await pilot.press(*title_part)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def hold_session_reads(services: Any, *, once: bool = False) -> tuple[asyncio.Event, asyncio.Event]:
    """Make `services.sessions.get` wait until the returned `release` is set (`once`: only the first read waits);
    `started` is set when a read begins waiting. A real read follows: the database is not stood in for."""
    started, release, real_get = asyncio.Event(), asyncio.Event(), services.sessions.get

    async def held(session_id: str) -> Any:
        if not (once and started.is_set()):
            started.set()
            await release.wait()
        return await real_get(session_id)

    services.sessions.get = held
    return started, release
