"""A tiny App that mounts only `PreviewPane` for one seeded session, so preview/post tests do not depend on the
workspace. Real SQLite file, real services (opened by the app, as the real app does), fixed clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from conftest import START, FixedClock
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Footer

from flowpilot_tui.config import ConnectWiseConnection, Settings, UiSettings
from flowpilot_tui.services.container import Services, open_services
from flowpilot_tui.widgets.preview_pane import PreviewPane

OUTLOOK = "Outlook keeps prompting for password after M365 migration"  # demo: linked to ConnectWise #48213
VPN = "VPN connects but internal DNS names do not resolve"  # demo: no ticket (local)
PRINTER = "Second-floor shared printer shows offline for all users"  # demo: already resolved
CW_KEY_ENV = "FP_TEST_CW_PRIVATE_KEY"


async def seed_demo_db(db_url: str, login: str = "alice") -> dict[str, str]:
    """Seed the demo data set into a fresh DB file; returns {title: session id}."""
    from flowpilot_tui.services import demo
    from flowpilot_tui.services.sessions import SessionService
    from flowpilot_tui.services.store import Store

    store = await Store.open(db_url)
    try:
        actor = await demo.seed_demo(store, login, START)
        page = await SessionService(store, actor).list_sessions()
        return {s.title: s.id for s in page.items}
    finally:
        await store.close()


def seed_sync(db_url: str, login: str = "alice") -> dict[str, str]:
    """For plain-`def` snapshot tests: seed on a private loop before the app starts its own."""
    return asyncio.run(seed_demo_db(db_url, login))


def make_settings(db_url: str, user: str = "alice", cw: Any = None) -> Settings:
    """Settings for the harness; `cw` is a started ConnectWiseEmulator to link the demo connection to."""
    connections = {}
    if cw is not None:
        connections["demo-cw"] = ConnectWiseConnection(
            site=cw.site_url,
            company_id=cw.company_id,
            public_key=cw.public_key,
            private_key_env=CW_KEY_ENV,
            client_id=cw.client_id,
            timeout_s=5,
        )
    settings = Settings(
        db_url=db_url, user=user, ui=UiSettings(cursor_blink=False, animations="none"), connections=connections
    )
    assert settings.user == user, "FLOWPILOT_USER overrides the user: monkeypatch.setenv('FLOWPILOT_USER', ...)"
    return settings


class PreviewHarness(App[None]):
    """Mounts `PreviewPane(services, session_id, kind)` and records the `Posted` messages it bubbles."""

    CSS = "Screen { layout: vertical; }"

    def __init__(
        self,
        settings: Settings,
        session_id: str,
        *,
        kind: str = "resolve",
        clock: Callable[[], Any] | None = None,
        prepare: Callable[[Services], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.session_id = session_id
        self.kind = kind
        self.clock = clock or FixedClock(START + timedelta(days=1))
        self.prepare = prepare
        self.services: Services | None = None
        self.posted: list[PreviewPane.Posted] = []
        self.animation_level = "none"

    def compose(self) -> ComposeResult:
        yield Footer()

    async def on_mount(self) -> None:
        self.services = await open_services(self.settings, clock=self.clock)
        _instant_waits(self.services)
        if self.prepare is not None:
            await self.prepare(self.services)
        pane = PreviewPane(self.services, self.session_id, kind=self.kind, id="preview")
        await self.mount(pane, before=self.query_one(Footer))
        pane.text_area.focus()

    async def on_unmount(self) -> None:
        if self.services is not None:  # as the real app: the pane saves pending drafts on its own unmount first
            await self.services.close()

    def on_preview_pane_posted(self, message: PreviewPane.Posted) -> None:
        self.posted.append(message)

    @property
    def pane(self) -> PreviewPane:
        return self.query_one(PreviewPane)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until the pane's workers (load, save, post) are done and the screen has caught up."""
    for _ in range(200):
        await pilot.pause()
        app = pilot.app
        if isinstance(app, PreviewHarness) and app.query(PreviewPane):
            pane = app.pane
            busy = [w for w in app.workers if not w.is_finished]
            if pane.current.loaded and not busy:
                await pilot.pause()
                return
        await asyncio.sleep(0.01)
    raise AssertionError("preview did not settle")


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], bool], what: str = "condition") -> None:
    """Poll `predicate` between event-loop turns (state, not time: the bound is only a safety net)."""
    for _ in range(500):
        if predicate():
            return
        await pilot.pause()
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def _no_wait(_seconds: float) -> None:
    """Retry/recheck waits of the PSA client and writeback: instant in tests (the emulator answers at once)."""


def _instant_waits(services: Services) -> None:
    """Give writeback and its ConnectWise providers the instant sleeper (before `services.writeback` is built)."""
    from flowpilot_tui.services.psa.factory import ProviderPool

    services.extras["psa_providers"] = ProviderPool(services.settings.connections, sleep=_no_wait)
    services.extras["writeback_options"] = {"sleep": _no_wait}
