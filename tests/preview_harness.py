"""A tiny App whose one screen owns a session's state and shows only `PreviewPane`, so preview/post tests do not
depend on chat, facts and fixes. It is the same owner the workspace is built on (`SessionScreen`). Real SQLite file,
real services (opened by the app, as the real app does), fixed clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from support import START, FixedClock
from textual import on
from textual.app import App, ComposeResult
from textual.widgets import Footer

from flowpilot_tui.app import drain_workers
from flowpilot_tui.config import Settings
from flowpilot_tui.messages import NotePosted
from flowpilot_tui.screens.session_screen import SessionScreen
from flowpilot_tui.services.container import Services, open_services
from flowpilot_tui.services.drafts import Kind
from flowpilot_tui.widgets.preview_pane import PreviewPane

OUTLOOK = "Outlook keeps prompting for password after M365 migration"  # demo: linked to ConnectWise #48213
VPN = "VPN connects but internal DNS names do not resolve"  # demo: no ticket (local)
PRINTER = "Second-floor shared printer shows offline for all users"  # demo: already resolved


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


class PreviewScreen(SessionScreen):
    """The session owner with only the preview pane (and a footer) on it."""

    def compose(self) -> ComposeResult:
        yield self.make_preview(id="preview")
        yield Footer()

    async def on_mount(self) -> None:
        self.preview.text_area.focus()
        await self.start_preview()


class PreviewHarness(App[None]):
    """Pushes `PreviewScreen(services, session_id, kind)` and records the `NotePosted` messages it bubbles."""

    CSS = "Screen { layout: vertical; }"

    def __init__(
        self,
        settings: Settings,
        session_id: str,
        *,
        kind: Kind = "resolve",
        clock: Callable[[], Any] | None = None,
        prepare: Callable[[Services], Awaitable[None]] | None = None,
        anthropic_client_factory: Any = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.session_id = session_id
        self.kind: Kind = kind
        self.clock = clock or FixedClock(START + timedelta(days=1))
        self.prepare = prepare
        self.anthropic_client_factory = anthropic_client_factory
        self.services: Services | None = None
        self.posted: list[NotePosted] = []
        self.animation_level = "none"

    async def on_mount(self) -> None:
        self.services = await open_services(
            self.settings,
            clock=self.clock,
            psa_sleep=_no_wait,
            anthropic_client_factory=self.anthropic_client_factory,
        )
        if self.prepare is not None:
            await self.prepare(self.services)
        await self.push_screen(PreviewScreen(self.services, self.session_id, kind=self.kind))

    async def on_unmount(self) -> None:
        await drain_workers(self)  # as the real app: workers end, then the services close
        if self.services is not None:  # the screen saved pending drafts on its own unmount, before this
            await self.services.close()

    @on(NotePosted)
    def note_posted(self, message: NotePosted) -> None:
        self.posted.append(message)

    @property
    def owner(self) -> PreviewScreen:
        screen = self.screen_stack[1] if len(self.screen_stack) > 1 else self.screen
        assert isinstance(screen, PreviewScreen), screen
        return screen

    @property
    def pane(self) -> PreviewPane:
        return self.owner.preview


def preview_ready(app: App[Any]) -> bool:
    """A `settle` condition: the harness's preview has loaded its text."""
    return isinstance(app, PreviewHarness) and len(app.screen_stack) > 1 and app.owner.current.loaded


async def _no_wait(_seconds: float) -> None:
    """Retry/recheck waits of the PSA client and writeback: instant in tests (the emulator answers at once)."""
