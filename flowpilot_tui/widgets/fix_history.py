"""Every suggested fix of the session, newest first, with its state and decision.

Why: a superseded or dismissed suggestion is still evidence ("we already ruled that out") for the escalation.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import plain
from flowpilot_tui.services.views import FixView
from flowpilot_tui.widgets.fix_card import decision_text
from flowpilot_tui.widgets.screen_base import Dialog


def fix_entry(fix: FixView) -> Group:
    if fix.active:
        state = Text("ACTIVE", style="bold reverse")
    else:
        when = fix.superseded_at.astimezone().strftime("%b %d %H:%M") if fix.superseded_at else ""
        state = Text(f"superseded {when}", style="dim")
    head = Text.assemble(state, "  ", plain(fix.title, style="bold"))
    lines: list[Text] = [head, Text(f"  {decision_text(fix)}", style="italic")]
    if fix.rationale:
        lines.append(Text("  ").append_text(plain(fix.rationale, style="dim")))
    lines.extend(Text(f"  {n}. ").append_text(plain(s)) for n, s in enumerate(fix.steps, 1))
    lines.append(Text(""))
    return Group(*lines)


class FixHistory(Dialog[None]):
    BINDINGS = keymap.bindings("dialog", only=["dialog.cancel"])

    def __init__(self, fixes: tuple[FixView, ...]) -> None:
        super().__init__()
        self.fixes = fixes

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="fix-history"):
            yield Label(f"Suggested fixes ({len(self.fixes)}), newest first — Esc closes", classes="title")
            yield Static(Group(*(fix_entry(f) for f in self.fixes)))

    def on_mount(self) -> None:
        self.query_one("#fix-history").focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
