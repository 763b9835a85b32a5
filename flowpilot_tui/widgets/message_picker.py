"""Pick one chat message to copy (newest first). Why a picker: history is rendered as one block per window, so
a message is chosen from a list rather than by focusing a widget per message."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import one_line, plain
from flowpilot_tui.widgets.chat_log import ROLE_LABEL
from flowpilot_tui.widgets.screen_base import Dialog

SHOWN = 100


class MessagePicker(Dialog[str | None]):
    BINDINGS = keymap.bindings("dialog", only=["dialog.cancel"])

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        super().__init__()
        self.entries = list(reversed(entries[-SHOWN:]))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Copy which message? (Enter copies, Esc cancels)", classes="title")
            yield OptionList(
                *(
                    Option(plain(f"{ROLE_LABEL.get(role, role)}: {one_line(text, 200)}"), id=str(i))
                    for i, (role, text) in enumerate(self.entries)
                ),
                id="picker",
            )

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        picker.highlighted = 0 if self.entries else None
        picker.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.entries[int(event.option.id or 0)][1])

    def action_cancel(self) -> None:
        self.dismiss(None)
