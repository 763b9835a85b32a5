"""What the redactor masked before anything went to a model. Shown locally only; never stored or sent."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import plain, strip_controls
from flowpilot_tui.services.redact import RedactedItem
from flowpilot_tui.widgets.screen_base import Dialog


def redactions_table(items: Sequence[RedactedItem]) -> Table:
    table = Table(expand=True, show_lines=False)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Replaced by", no_wrap=True)
    table.add_column("Original (local only)", ratio=1)
    for item in items:
        table.add_row(Text(item.kind), Text(item.placeholder), Text(strip_controls(item.original)))
    return table


class RedactionsScreen(Dialog[None]):
    DEFAULT_CSS = """
    RedactionsScreen { align: center middle; }
    RedactionsScreen > #rd-box { width: 100; max-width: 95%; height: auto; max-height: 90%; border: thick $warning;
        background: $surface; padding: 0 1; }
    """
    BINDINGS = keymap.bindings("redactions")

    def __init__(self, items: Sequence[RedactedItem]) -> None:
        super().__init__()
        self.items = list(items)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="rd-box") as box:
            box.border_title = f"Redacted before sending: {len(self.items)}"
            if not self.items:
                yield Static(plain("Nothing in this session looked like a secret; nothing was masked."))
            else:
                yield Static(
                    plain(
                        "These values were replaced before any text could reach a model. "
                        "They stay on this machine. Esc closes."
                    )
                )
                yield Static(redactions_table(self.items))

    def action_close(self) -> None:
        self.dismiss(None)
