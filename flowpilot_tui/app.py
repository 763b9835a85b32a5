"""The Textual application: a thin shell that opens services, applies keymap/theme and hosts the screens.

Why thin: layout and wiring live in `screens/`, behaviour in `services/`. Screens are imported lazily so the first
frame does not pay for widgets (Markdown, TextArea) that only the workspace needs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.widgets import Static
from textual.worker import WorkerCancelled, WorkerError, WorkerFailed

from flowpilot_tui import hangup, heap, keymap, retention, themes
from flowpilot_tui.commands import FlowPilotCommands
from flowpilot_tui.key_gate import KeyGate
from flowpilot_tui.messages import FirstRunNeeded, ServicesReady, TerminalClosed
from flowpilot_tui.screens.live import LiveFeed

if TYPE_CHECKING:
    from textual.driver import Driver

    from flowpilot_tui.config import Settings
    from flowpilot_tui.services.container import Services


INPUT_EVENTS = (events.Key, events.Paste, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)


class FlowPilotApp(App[None]):
    CSS_PATH = "styles/app.tcss"
    TITLE = "FlowPilot"
    BINDINGS = keymap.bindings("app")
    COMMANDS = App.COMMANDS | {FlowPilotCommands}

    def __init__(
        self, settings: Settings, services: Services | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.services: Services | None = services
        self._owns_services = services is None
        self.clock = clock or (services.clock if services else None) or _utcnow
        self.animation_level = settings.ui.animations
        self.live_feed = LiveFeed(self)  # one change feed for every screen (screens/live.py)
        self.key_gate = KeyGate(self, super().on_event)  # one key in flight at a time (key_gate.py)
        self.idle_gc = heap.IdleCollector(settings.ui.idle_gc_s)  # full collections while the engineer pauses
        self._undo_signals: Callable[[], None] = lambda: None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, INPUT_EVENTS):
            self.idle_gc.busy()
        if not KeyGate.gates(event):
            await super().on_event(event)
        elif not self.key_gate.hold(event):
            await self.key_gate.deliver(event)

    def get_driver_class(self) -> type[Driver]:
        """Input is parsed by PasteParser (a paste arrives whole, in order, and never acts as keys) on the terminal,
        Windows and web drivers; any other TEXTUAL_DRIVER override still wins."""
        from flowpilot_tui.paste_parser import driver_class

        return driver_class() or super().get_driver_class()

    def compose(self) -> ComposeResult:
        yield Static("Opening the database…", id="boot")

    def on_mount(self) -> None:
        themes.register(self)
        self.theme = themes.initial_theme(self, self.settings.theme)
        self.theme_changed_signal.subscribe(self, lambda theme: themes.remember(theme.name))
        self.screen_change_signal.subscribe(self, retention.release_closed_screens)  # see retention.py
        if self.settings.ui.idle_gc_s > 0:
            self.set_interval(self.settings.ui.idle_gc_s / 2, self.idle_gc.tick, name="idle-gc")
        if not self.is_headless:  # a hang-up or SIGTERM saves the drafts first (hangup.py); tests keep pytest's
            self._undo_signals = hangup.install(self.post_message)
        self.set_keymap(self.settings.keymap)
        unknown = keymap.unknown_ids(self.settings.keymap)
        if unknown:
            self.notify(
                f"Unknown binding ids in keymap: {', '.join(unknown)} (see F1 for the list)", severity="warning"
            )
        if self.services is not None:
            self.post_message(ServicesReady(self.services.actor, self.services))
        else:
            self.open_services()

    @work(exclusive=True, group="startup", exit_on_error=False)
    async def open_services(self) -> None:
        """Open the DB inside the app's event loop (the async engine belongs to this loop)."""
        from flowpilot_tui.services import accounts
        from flowpilot_tui.services.container import open_services, open_store
        from flowpilot_tui.services.errors import DomainError, NotFound

        try:
            store = await open_store(self.settings)
            if await accounts.is_empty(store):
                self.post_message(FirstRunNeeded(store))
                return
            services = await open_services(self.settings, clock=self.clock, store=store)
        except NotFound as exc:
            self.exit(return_code=2, message=f"flowpilot: {exc.message}")
            return
        except DomainError as exc:
            self.exit(return_code=exc.exit_code, message=f"flowpilot: {exc.message}")
            return
        except Exception as exc:  # never leave "Opening the database…" up: a failed open ends with one line
            self.exit(return_code=1, message=f"flowpilot: cannot open the database: {exc.__class__.__name__}")
            return
        self._owns_services = True
        self.post_message(ServicesReady(services.actor, services))

    @on(FirstRunNeeded)
    def show_first_run(self, event: FirstRunNeeded) -> None:
        from flowpilot_tui.screens.first_run import FirstRun

        self.push_screen(FirstRun(self.settings, event.store, self.clock))

    @on(ServicesReady)
    def show_sessions(self, event: ServicesReady) -> None:
        from flowpilot_tui.screens.session_list import SessionList

        self.services = event.services
        self.query_one("#boot", Static).update(f"FlowPilot · {event.actor.account_name}")
        if len(self.screen_stack) > 1:
            self.switch_screen(SessionList(event.services))
        else:
            self.push_screen(SessionList(event.services))
        self.call_after_refresh(heap.freeze_once, "start-up")  # see heap.py: no full-collection pauses

    async def action_quit(self) -> None:
        """Quit behind the keys already typed (ctrl+q is a priority binding): they reach their editor first, and
        the session screen saves them on close."""
        from flowpilot_tui.widgets.ordered_keys import after_typed_keys

        after_typed_keys(self, self._quit_now)

    @on(TerminalClosed)
    def terminal_closed(self) -> None:
        """Nobody can type any more: keep what was typed (as on quit, behind the keys read before the end) and exit
        rather than read a dead terminal."""
        from flowpilot_tui.widgets.ordered_keys import after_typed_keys

        after_typed_keys(self, self._quit_now)

    def _quit_now(self) -> None:
        from flowpilot_tui.screens.session_screen import SessionScreen

        for screen in self.screen_stack:
            if isinstance(screen, SessionScreen):
                screen.capture()  # the keys just applied join the draft the screen saves on close
        self.exit()

    def action_command_palette(self) -> None:
        """Textual's palette, opened the cheaper way dialogs are (widgets/palette.py)."""
        from textual.command import CommandPalette

        from flowpilot_tui.widgets.palette import Palette

        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(Palette(id="--command-palette"))

    def action_help(self) -> None:
        from flowpilot_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.settings.keymap))

    async def on_unmount(self) -> None:
        self._undo_signals()
        self.idle_gc.close()
        await drain_workers(self)  # no worker may still be inside a service call when its clients close
        await self.live_feed.close()
        if self.services is not None and self._owns_services:
            await self.services.close()


async def drain_workers(app: App[Any]) -> None:
    """Cancel every worker still running and wait until each has unwound (their `finally`s ran)."""
    running = [w for w in app.workers if not w.is_finished]
    for worker in running:
        worker.cancel()
    for worker in running:
        with contextlib.suppress(WorkerCancelled, WorkerFailed, WorkerError):  # how it ended is not our concern here
            await worker.wait()


def _utcnow() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


def make_app(
    settings: Settings, services: Services | None = None, clock: Callable[[], datetime] | None = None
) -> FlowPilotApp:
    """Factory used by the CLI, tests and snapshots: pass `services` to reuse an open DB (the caller closes it)."""
    return FlowPilotApp(settings, services, clock)


def run_app(settings: Settings, **run_kwargs: Any) -> int:
    """Run the TUI; the return code is 0, or the domain error's exit code (2 for an unknown configured user)."""
    app = make_app(settings)
    app.run(**run_kwargs)
    return int(app.return_code or 0)
