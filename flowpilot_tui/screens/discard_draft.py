"""Ask before regenerating over the engineer's edited draft: their text is the one thing we must not lose silently."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import plain
from flowpilot_tui.widgets.screen_base import Dialog


class DiscardDraft(Dialog[bool]):
    """True = discard the draft and regenerate; default focus and Esc keep the draft."""

    DEFAULT_CSS = """
    DiscardDraft { align: center middle; }
    DiscardDraft > #dd-box {
        width: 70; max-width: 95%; height: auto; border: thick $warning; background: $surface; padding: 0 1;
    }
    DiscardDraft #dd-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    DiscardDraft #dd-buttons Button { margin-left: 2; }
    """
    BINDINGS = keymap.bindings("discard_draft")
    AUTO_FOCUS = "#dd-keep"

    def __init__(self, kind: str, length: int) -> None:
        super().__init__()
        self.kind = kind
        self.length = length

    def compose(self) -> ComposeResult:
        with Vertical(id="dd-box") as box:
            box.border_title = "Regenerate?"
            yield Static(
                plain(
                    f"Your edited {self.kind} draft ({self.length:,} characters) will be discarded and replaced by "
                    "freshly generated text. This cannot be undone."
                )
            )
            with Horizontal(id="dd-buttons"):
                yield Button("Keep my draft (Esc)", id="dd-keep")
                yield Button("Discard & regenerate (ctrl+y)", id="dd-discard", variant="warning")

    @on(Button.Pressed, "#dd-keep")
    def action_keep(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#dd-discard")
    def action_discard(self) -> None:
        self.dismiss(True)
