"""The active suggested fix: title, rationale, steps and the decision keys.

Why letters here but ctrl+x for dismiss: the card must be focused (F4) for its keys to fire, so letters never
collide with typing; dismissing drops the suggestion, so it needs a modified key. The card only asks — the
workspace records the decision from a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from flowpilot_tui import keymap
from flowpilot_tui.safe_text import plain
from flowpilot_tui.services.views import FixView

DECISION_LABEL = {
    "one_off": "one-off script",
    "draft_template": "draft template",
    "build_template": "build template",
    "dismissed": "dismissed",
}


def decision_text(fix: FixView) -> str:
    if fix.user_decision:
        when = fix.decided_at.astimezone().strftime("%b %d %H:%M") if fix.decided_at else ""
        return f"Decision: {DECISION_LABEL.get(fix.user_decision, fix.user_decision)} {when}".rstrip()
    return "No decision yet"


class FixCard(VerticalScroll, can_focus=True):
    BINDINGS = keymap.bindings("fix")
    DEFAULT_CSS = """
    FixCard { scrollbar-gutter: stable; }
    FixCard > #fix-body { height: auto; }
    FixCard > #fix-keys { dock: bottom; height: auto; background: $panel; padding: 0 1; }
    """

    @dataclass
    class Decided(Message):
        fix: FixView
        decision: str

    @dataclass
    class HistoryRequested(Message):
        pass

    def __init__(self, *, can_write: bool, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.can_write = can_write
        self.fix: FixView | None = None
        self.history_count = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="fix-body")
        yield Static("", id="fix-keys")

    def show(self, fix: FixView | None, history_count: int) -> None:
        self.fix, self.history_count = fix, history_count
        self.query_one("#fix-body", Static).update(self._render_fix())
        keys = self.query_one("#fix-keys", Static)
        keys.update(self._render_keys())
        keys.display = fix is not None or history_count > 0
        self.refresh_bindings()

    def _render_fix(self) -> Group:
        parts: list[Text] = []
        fix = self.fix
        if fix is None:
            parts.append(Text("No active suggestion.", style="bold"))
            parts.append(Text("The assistant proposes fixes; offline, type /fix in the chat.", style="dim"))
        else:
            parts.append(plain(fix.title, style="bold"))
            if fix.rationale:
                parts.append(plain(fix.rationale, style="italic"))
            for n, step in enumerate(fix.steps, 1):
                parts.append(Text(f"{n}. ").append_text(plain(step)))
            shell = f"Target: {fix.target_shell}" if fix.target_shell else "Target: any shell"
            parts.append(Text(f"{shell} · {decision_text(fix)} · source: {fix.source}", style="dim"))
        return Group(*parts)

    def _render_keys(self) -> Text:
        """Decision keys, always visible at the bottom of the card (they are why the card exists)."""
        line = Text()
        if self.fix is not None:
            keys = "o one-off · t draft template · b build template · ctrl+x dismiss"
            if self.can_write:
                line.append(keys, style="bold")
            else:
                line.append("Decisions disabled: your role (viewer) cannot decide fixes", style="italic")
        if self.history_count:
            line.append(("\n" if line else "") + f"h history ({self.history_count} earlier)", style="dim")
        return line

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "decide":
            return (self.can_write and self.fix is not None) or None
        if action == "history":
            return self.history_count > 0 or None
        return True

    def action_decide(self, decision: str) -> None:
        if self.fix is not None:
            self.post_message(self.Decided(self.fix, decision))

    def action_history(self) -> None:
        self.post_message(self.HistoryRequested())
