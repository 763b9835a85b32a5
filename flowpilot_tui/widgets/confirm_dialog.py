"""A small yes/no modal (optionally with a reason field); default focus is Cancel.

Why: deletions and status requests must never happen on a single unmodified key press (so Enter in the reason field
does not confirm). The reason field applies keys in the order typed (see ordered_keys).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import plain
from flowpilot_tui.widgets.ordered_keys import OrderedInput
from flowpilot_tui.widgets.screen_base import Dialog


class ConfirmDialog(Dialog["str | None"]):
    """Dismisses with the reason text ("" without a field) on confirm, None on cancel."""

    BINDINGS = keymap.bindings("dialog")

    def __init__(self, title: str, body: str, confirm_label: str, *, ask_reason: str | None = None) -> None:
        super().__init__()
        self.title_text, self.body, self.confirm_label, self.ask_reason = title, body, confirm_label, ask_reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(plain(self.title_text), classes="title")
            yield Static(plain(self.body))
            if self.ask_reason is not None:
                yield OrderedInput(placeholder=self.ask_reason, id="reason")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.confirm_label, id="confirm", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        reason = self.query_one("#reason", Input).value.strip() if self.ask_reason is not None else ""
        self.dismiss(reason)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
