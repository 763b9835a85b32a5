"""First run on an empty database: offer the labelled demo data or an empty account for the configured user.

Why a screen and not a CLI step: `flowpilot` with no arguments should get a newcomer to a working workspace.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from flowpilot_tui.messages import ServiceFailed, ServicesReady
from flowpilot_tui.safe_text import plain
from flowpilot_tui.widgets.app_footer import AppFooter
from flowpilot_tui.widgets.ordered_keys import OrderedInput
from flowpilot_tui.widgets.screen_base import FreshScreen

if TYPE_CHECKING:
    from flowpilot_tui.config import Settings
    from flowpilot_tui.services.store import Store


class FirstRun(FreshScreen[None]):
    def __init__(self, settings: Settings, store: Store, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(id="first-run"):
            yield Static("Welcome to FlowPilot", classes="title")
            yield Static(
                plain(
                    f"This database has no account yet. You are signed in as {self.settings.user!r}.\n"
                    "Load the demo data to explore a realistic workspace (clearly labelled, safe to throw away), "
                    "or start an empty account of your own."
                )
            )
            yield Button("Load demo data", id="demo", variant="primary")
            with Horizontal(id="empty-row"):
                yield OrderedInput(placeholder="Account name, e.g. Acme IT", id="account-name")
                yield Button("Start an empty account", id="empty")
            yield Static("", id="first-run-status")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#demo", Button).focus()

    @on(Button.Pressed, "#demo")
    def load_demo(self) -> None:
        self._set_busy("Seeding demo data…")
        self.setup(demo=True, name="")

    @on(Button.Pressed, "#empty")
    @on(Input.Submitted, "#account-name")
    def start_empty(self) -> None:
        name = self.query_one("#account-name", Input).value.strip()
        if not name:
            self.notify("Type a name for your account first", severity="warning")
            self.query_one("#account-name", Input).focus()
            return
        self._set_busy("Creating the account…")
        self.setup(demo=False, name=name)

    def _set_busy(self, text: str) -> None:
        self.query_one("#first-run-status", Static).update(text)
        for button in self.query(Button):
            button.disabled = True

    @work(exclusive=True, group="first-run", exit_on_error=False)
    async def setup(self, *, demo: bool, name: str) -> None:
        from flowpilot_tui.services import accounts
        from flowpilot_tui.services import demo as demo_data
        from flowpilot_tui.services.container import open_services
        from flowpilot_tui.services.errors import DomainError

        try:
            if demo:
                await demo_data.seed_demo(self.store, self.settings.user, self.clock())
            else:
                await accounts.create_account(self.store, name, self.settings.user, self.clock())
            services = await open_services(self.settings, clock=self.clock, store=self.store)
        except DomainError as exc:
            self.post_message(ServiceFailed(exc.message))
            return
        self.app.post_message(ServicesReady(services.actor, services))

    @on(ServiceFailed)
    def setup_failed(self, event: ServiceFailed) -> None:
        self.notify(event.message, severity="error")
        self.query_one("#first-run-status", Static).update("")
        for button in self.query(Button):
            button.disabled = False
